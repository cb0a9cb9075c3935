"""Schema snapshots of the local server: frames, appwrite.config.json, fingerprint, diff."""

from __future__ import annotations

import json
from typing import Any

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from ops_fixtures import *  # noqa: F403 - the module's fixtures

from workbook.core.schema import COLUMN_FIELDS, DIFF_FIELDS, Schema, diff, snapshot
from workbook.runtime.ops import Ops

COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "state", "type": "enum", "elements": ["draft", "live"], "default": "draft"},
    {"key": "views", "type": "bigint", "min": 0, "max": 9007199254740993},
    {"key": "contact", "type": "email"},
]
INDEXES = [{"key": "by_title", "type": "unique", "columns": ["title"], "orders": ["ASC"]}]


def _build(ops: Ops) -> None:
    ops.create_table("posts", "Posts", columns=COLUMNS, indexes=INDEXES)
    ops.create_table("authors", columns=[{"key": "name", "type": "text"}])


def test_snapshot_frames(ops: Ops, client: Client, database_id: str) -> None:
    _build(ops)
    schema = snapshot(client, database_id)
    assert [t["$id"] for t in schema.tables] == ["authors", "posts"]
    tables = schema.tables_frame()
    assert tables.set_index("table").loc["posts", "columns"] == 4
    columns = schema.columns_frame("posts").set_index("key")
    assert list(schema.columns_frame().columns) == COLUMN_FIELDS
    assert columns.loc["state", "type"] == "enum"
    assert columns.loc["contact", "type"] == "email"
    assert columns.loc["title", "size"] == 100 and bool(columns.loc["title", "required"])
    assert columns.loc["views", "options"] == "min=0 max=9007199254740993"
    assert set(columns["status"]) == {"available"}
    indexes = schema.indexes_frame()
    assert indexes.iloc[0][["table", "key", "type", "columns"]].tolist() == [
        "posts",
        "by_title",
        "unique",
        "title",
    ]
    page = schema._repr_html_()
    assert "posts" in page and "by_title" in page and "draft|live" in page
    assert "posts(" in repr(schema)


def test_snapshot_pages_past_one_page_and_accepts_a_service(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    for i in range(105):
        tables.create_table(database_id, f"t{i:03d}", f"T{i}")
    schema = snapshot(tables, database_id)
    assert len(schema.tables) == 105


def test_to_appwrite_json_matches_cli_12_pull_shape(
    ops: Ops, client: Client, database_id: str, ops_server: Any
) -> None:
    _build(ops)
    config = snapshot(client, database_id).to_appwrite_json()
    json.dumps(config)
    assert config["projectId"] == ops_server.project_id
    assert config["tablesDB"] == [{"$id": database_id, "name": database_id, "enabled": True}]
    posts = next(t for t in config["tables"] if t["$id"] == "posts")
    assert set(posts) == {
        "$id",
        "$permissions",
        "databaseId",
        "name",
        "enabled",
        "rowSecurity",
        "columns",
        "indexes",
    }
    assert posts["databaseId"] == database_id and posts["name"] == "Posts"
    state = next(c for c in posts["columns"] if c["key"] == "state")
    assert state["format"] == "enum" and state["elements"] == ["draft", "live"]
    assert "status" not in state and "$createdAt" not in state
    views = next(c for c in posts["columns"] if c["key"] == "views")
    assert views["max"] == 9007199254740993
    assert posts["indexes"] == [
        {"key": "by_title", "type": "unique", "columns": ["title"], "orders": ["ASC"]}
    ]


def test_fingerprint_ignores_time_and_status_but_not_schema(
    ops: Ops, client: Client, database_id: str
) -> None:
    _build(ops)
    first = snapshot(client, database_id)
    again = snapshot(client, database_id)
    assert first.fingerprint() == again.fingerprint()
    shuffled = Schema(database_id, list(reversed(json.loads(json.dumps(first.tables)))))
    for table in shuffled.tables:
        table["$updatedAt"] = "2000-01-01T00:00:00.000+00:00"
        table["columns"] = list(reversed(table["columns"]))
        for column in table["columns"]:
            column["status"] = "processing"
    assert shuffled.fingerprint() == first.fingerprint()
    ops.add_column("authors", "born", "datetime")
    assert snapshot(client, database_id).fingerprint() != first.fingerprint()


def test_diff_added_removed_changed(ops: Ops, client: Client, database_id: str) -> None:
    _build(ops)
    before = snapshot(client, database_id)
    ops.delete_table("authors")
    ops.create_table("tags", columns=[{"key": "label", "type": "varchar", "size": 20}])
    ops.add_column("posts", "slug", "varchar", size=40)
    ops.update_column("posts", "title", size=200)
    ops.delete_index("posts", "by_title")
    ops.add_index("posts", "by_slug", "key", ["slug"])
    after = snapshot(client, database_id)
    changes = diff(before, after)
    assert list(changes.columns) == DIFF_FIELDS
    rows = {(r.change, r.kind, r.table, r.key) for r in changes.itertuples()}
    assert rows == {
        ("removed", "table", "authors", ""),
        ("added", "table", "tags", ""),
        ("added", "column", "posts", "slug"),
        ("changed", "column", "posts", "title"),
        ("removed", "index", "posts", "by_title"),
        ("added", "index", "posts", "by_slug"),
    }
    title = changes[(changes.key == "title")].iloc[0]
    assert "size: 100 → 200" in title.detail
    assert diff(after, after).empty
