"""Schema changes as an operator reads them (the closing cell's view): a rename is one
"renamed" row, a deleted column is destructive, integers stay integers, unset bounds are
blank, and no pandas index column is printed."""

from __future__ import annotations

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from workbook.core.schema import snapshot
from workbook.runtime import views
from workbook.runtime.ops import Ops


def test_a_rename_and_a_delete_are_shown_as_such(client: Client, database_id: str) -> None:
    ops = Ops(TablesDB(client), database_id, poll_interval=0.01)
    ops.create_table(
        "posts",
        columns=[
            {"key": "author", "type": "varchar", "size": 64},
            {"key": "legacy", "type": "varchar", "size": 16},
            {"key": "views", "type": "integer", "min": 0, "default": 0},
        ],
    )
    before = snapshot(client, database_id)
    ops.rename_column("posts", "author", "author_name")
    ops.delete_column("posts", "legacy")
    after = snapshot(client, database_id)

    found = views.changes(before, after, ops.renames)
    rows = {(r.change, r.key): bool(r.destructive) for r in found.itertuples()}
    assert rows == {("renamed", "author → author_name"): False, ("removed", "legacy"): True}
    text = views.changes_text(found)
    assert "DESTRUCTIVE" in text and not text.splitlines()[1].startswith(" 0")
    page = views.changes_html(found)
    assert "⚠ destructive" in page and "wb-renamed" in page

    columns = after.columns_frame("posts").set_index("key")
    assert columns.loc["views", "default"] == 0 and str(columns.loc["views", "default"]) == "0"
    assert columns.loc["views", "options"] == "min=0"  # the unset max is blank
    assert columns.loc["author_name", "default"] == ""
