"""Done when (issue 7): ``diff`` + ``create --from-diff`` bring a database from schema A to
schema B and ``down`` brings it back, rows kept where the plan says they are kept; a rename
with ``previousKey`` keeps its data; an unmarked drop + add is refused. Real local server,
in-process CLI, real kernels for the two runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused
from sdk_support import tables_for

from workbook.core.paging import raw_get
from workbook.runtime.ops import Ops

SCHEMA_DELAY = 0.0  # these tests are about schemas, not about waiting for builds


def schema_a(server: Any) -> TablesDB:
    tables = tables_for(server)
    tables.create("app", "App")
    Ops(tables, "app", poll_interval=0.02, timeout=20).create_table(
        "posts",
        "Posts",
        columns=[
            {"key": "title", "type": "varchar", "size": 100, "required": True},
            {"key": "author", "type": "varchar", "size": 64},
            {"key": "views", "type": "integer"},
            {"key": "legacy", "type": "varchar", "size": 20},
        ],
        indexes=[
            {"key": "by_title", "type": "key", "columns": ["title"], "orders": ["ASC"]},
            # over a column B renames and one B recreates: rebuilt around the change
            {"key": "by_author", "type": "key", "columns": ["author"], "orders": ["ASC"]},
            {"key": "by_views", "type": "key", "columns": ["views"], "orders": ["DESC"]},
        ],
    )
    tables.create_row("app", "posts", "p1", {"title": "One", "author": "ada", "views": 7})
    tables.create_row("app", "posts", "p2", {"title": "Two", "author": "bo", "legacy": "x"})
    return tables


def row_of(tables: TablesDB, row_id: str) -> dict[str, Any]:
    return raw_get(tables.client, f"/tablesdb/app/tables/posts/rows/{row_id}")


def schema_b(a: dict[str, Any]) -> dict[str, Any]:
    b = copy.deepcopy(a)
    posts = b["tables"][0]
    columns = {c["key"]: c for c in posts["columns"]}
    columns["title"]["size"] = 200  # update in place
    columns["author"].update(key="writer", previousKey="author")  # rename, data kept
    columns["views"].update(type="varchar", size=20)  # recreate (type), data copied
    del columns["legacy"]  # delete: destructive
    columns["rating"] = {"key": "rating", "type": "double", "required": False, "array": False}
    posts["columns"] = list(columns.values())
    indexes = {i["key"]: i for i in posts["indexes"]}
    indexes["by_title"] = {"key": "by_title", "type": "unique", "columns": ["title"], "orders": []}
    indexes["by_author"]["columns"] = ["writer"]
    posts["indexes"] = list(indexes.values())
    b["tables"].append(
        {
            "$id": "tags",
            "$permissions": [],
            "databaseId": "app",
            "name": "Tags",
            "enabled": True,
            "rowSecurity": False,
            "columns": [{"key": "label", "type": "varchar", "size": 32, "required": True}],
            "indexes": [],
        }
    )
    return b


def test_diff_and_generated_migration_go_from_a_to_b_and_back(tmp_path: Path, server: Any) -> None:
    tables = schema_a(server)
    ws = CliWorkspace(tmp_path / "repo")
    ws.root.mkdir()
    assert ws.run("init").code == 0
    add_environment(ws, server, database="app")
    assert ws.run("schema", "pull", "--env", "test", "-o", "a.json").code == 0
    a = json.loads((ws.root / "a.json").read_text())
    ws.write("b.json", json.dumps(schema_b(a)))

    shown = ws.run("diff", "--env", "test", "--schema", "b.json", "--json")
    assert shown.code == 0, shown.output
    changes = {(c["action"], c["kind"], c["key"]) for c in json.loads(shown.stdout)["changes"]}
    assert changes == {
        ("update", "column", "title"),
        ("rename", "column", "author"),
        ("recreate", "column", "views"),
        ("delete", "column", "legacy"),
        ("add", "column", "rating"),
        ("delete", "index", "by_title"),
        ("add", "index", "by_title"),
        ("delete", "index", "by_author"),  # Appwrite refuses to rename a column an index uses
        ("add", "index", "by_author"),
        ("delete", "index", "by_views"),  # nor to drop one (the recreate moves it aside)
        ("add", "index", "by_views"),
        ("add", "table", ""),
    }
    assert ws.run("diff", "--env", "test", "--schema", "b.json", "--exit-code").code == 1
    same = ws.run("diff", "--env", "test", "--schema", "a.json", "--exit-code")
    assert same.code == 0 and "matches" in same.stdout, same.output

    unmarked = schema_b(a)
    for column in unmarked["tables"][0]["columns"]:
        column.pop("previousKey", None)
    ws.write("c.json", json.dumps(unmarked))
    refused = ws.run("create", "--name", "c", "--from-diff", "--env", "test", "--schema", "c.json")
    assert_refused(refused, "posts.author is dropped and posts.writer added", "previousKey")

    assert ws.run("create", "--name", "baseline", "--baseline", "--env", "test").code == 0
    assert ws.run("stamp", "001", "--env", "test").code == 0
    made = ws.run("create", "--name", "to_b", "--from-diff", "--env", "test", "--schema", "b.json")
    assert made.code == 0, made.output
    source = (ws.root / "migrations/002_to_b.ipynb").read_text()
    assert source.index("rename_column") < source.index("delete_column")  # deletes last

    gate = source.index("data_loss_ok")  # asked before anything changes
    assert gate < source.index("rename_column") and 'confirmed = \\"\\"' in source
    assert source.index('delete_index(\\"posts\\", \\"by_views\\")') < source.index("rename_column")
    assert 'wb.expect_column(\\"posts\\", \\"views\\", type=\\"varchar\\"' in source
    planned = ws.run("up", "--env", "test", "--dry-run")  # its checks hold on the plan too
    assert planned.code == 0 and "plan:" in planned.stdout, planned.output
    assert "would fail" not in planned.stdout, planned.stdout
    assert "DS102 002_to_b posts.legacy (cells[5]" in planned.stdout  # lint under the plan
    applied = ws.run("up", "--env", "test", "-p", "confirmed=data_loss_ok", "--no-backup")
    assert applied.code == 0, applied.output
    assert ws.run("diff", "--env", "test", "--schema", "b.json", "--exit-code").code == 0
    row = row_of(tables, "p1")
    assert (row["writer"], row["views"], row["title"]) == ("ada", "7", "One")

    back = ws.run("down", "--env", "test", "--no-backup")
    assert back.code == 0, back.output
    again = ws.run("diff", "--env", "test", "--schema", "a.json", "--json")
    assert json.loads(again.stdout)["changes"] == [], again.stdout
    row = row_of(tables, "p1")
    assert (row["author"], row["views"], row["legacy"]) == ("ada", 7, None)
    index = raw_get(tables.client, "/tablesdb/app/tables/posts/indexes/by_views")
    assert (index["columns"], index["orders"]) == (["views"], ["DESC"])
    assert row_of(tables, "p2")["legacy"] is None  # dropped: from backup only
