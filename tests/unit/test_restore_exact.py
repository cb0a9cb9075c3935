"""`workbook restore` undoes a destructive migration exactly: a deleted column and a column
recreated with another type come back with the same rows, ids, timestamps and values;
``--mode replace`` removes rows created since; ``--into-database`` leaves the original alone.

The migrations' destructive steps are the SDK calls a migration's cells make (in-process, so
no kernel is paid for); the restore is the real CLI, in-process, against the local server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace

from workbook.core.paging import iter_items
from workbook.local.server import LocalServer

ROWS = 150  # more than a page, so paging and bulk batches are crossed


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    tables.create_table(
        database_id,
        "posts",
        "Posts",
        columns=[
            {"key": "title", "type": "varchar", "size": 100, "required": True},
            {"key": "views", "type": "integer", "required": False, "min": 0, "max": 10**6},
            {"key": "tags", "type": "varchar", "size": 20, "array": True, "required": False},
        ],
        indexes=[{"key": "by_views", "type": "key", "attributes": ["views"]}],
    )
    rows = [
        {
            "$id": f"p{i:03d}",
            "title": f"post {i}",
            "views": i * 3,
            "tags": ["a", str(i)],
            "$createdAt": f"2024-01-{1 + i % 28:02d}T03:04:05.000+00:00",
            "$updatedAt": f"2024-02-{1 + i % 28:02d}T06:07:08.000+00:00",
        }
        for i in range(ROWS)
    ]
    for start in range(0, ROWS, 100):
        tables.create_rows(database_id, "posts", rows[start : start + 100])
    return database_id


def rows_of(client: Client, database: str, table: str = "posts") -> dict[str, dict[str, Any]]:
    """Every row as the API returns it, by id ($sequence included: rows are not recreated)."""
    path = f"/tablesdb/{database}/tables/{table}/rows"
    return {r["$id"]: r for r in iter_items(client, path, "rows")}


def schema_of(client: Client, database: str) -> list[Any]:
    """Every table of the database with its columns and indexes (Workbook's own aside)."""
    path = f"/tablesdb/{database}/tables"
    return [
        (t["$id"], [c["key"] for c in t["columns"]], [i["key"] for i in t["indexes"]])
        for t in iter_items(client, path, "tables")
        if not t["$id"].startswith("workbook_")
    ]


def without_sequence(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A row deleted and put back gets a new internal ``$sequence``; all else is the same."""
    return {k: {f: v for f, v in r.items() if f != "$sequence"} for k, r in rows.items()}


def delete_views(tables: TablesDB, database: str) -> None:
    """What the migration does: its index first (Appwrite insists), then the column."""
    tables.delete_index(database, "posts", "by_views")
    wait_gone(tables, database, "by_views", tables.get_index)
    tables.delete_column(database, "posts", "views")
    wait_gone(tables, database, "views", tables.get_column)


def wait_gone(tables: TablesDB, database: str, key: str, read: Any) -> None:
    for _ in range(200):
        try:
            read(database, "posts", key)
        except AppwriteException:
            return
        time.sleep(0.02)
    raise AssertionError(f"column {key} was not deleted")


def wait_available(tables: TablesDB, database: str, key: str) -> None:
    for _ in range(200):
        status = str(getattr(tables.get_column(database, "posts", key).status, "value", ""))
        assert status in ("processing", "available"), status
        if status == "available":
            return
        time.sleep(0.02)
    raise AssertionError(f"column {key} never became available")


def test_a_deleted_column_is_undone_exactly(
    ws: CliWorkspace, backup: Path, client: Client, tables: TablesDB, database: str
) -> None:
    before = rows_of(client, database)
    delete_views(tables, database)  # the migration's destructive step
    assert "views" not in rows_of(client, database)["p001"]

    result = ws.run("restore", str(backup), "--env", "test")
    assert result.code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        f"restored {ROWS} row(s) of posts",
        "  recreated column views (integer)",
        "  recreated index by_views (key)",
    ]
    assert f"checked: {ROWS} row(s) match the backup" in result.stdout
    assert rows_of(client, database) == before
    views = tables.get_column(database, "posts", "views")
    assert (views.min, views.max) == (0, 10**6)


def test_a_column_recreated_with_another_type_is_converted_back(
    ws: CliWorkspace,
    backup: Path,
    client: Client,
    tables: TablesDB,
    database: str,
    local_server: LocalServer,
) -> None:
    before = rows_of(client, database)
    delete_views(tables, database)  # views: integer → varchar, indexed again
    tables.create_varchar_column(database, "posts", "views", 20, False)
    wait_available(tables, database, "views")
    tables.create_index(database, "posts", "by_views", "key", ["views"])
    tables.update_rows(database, "posts", {"views": "many"})
    tables.create_row(database, "posts", "later", {"title": "later", "views": "7"})
    tables.create_row(database, "posts", "later2", {"title": "later2", "views": "n/a"})
    since = rows_of(client, database)["later"]

    local_server.clear_request_log()
    result = ws.run("restore", str(backup), "--env", "test")
    assert result.code == 0, result.output
    writes = [(r["method"], r["path"]) for r in local_server.request_log()]
    assert not [w for w in writes if w[0] == "PATCH" and "/rows/" in w[1]]  # in bulk only
    assert (
        "  converted column views back from varchar to integer "
        "(1 value(s) of rows created since did not convert: null)"
    ) in result.stdout
    after = rows_of(client, database)
    assert tables.get_column(database, "posts", "views").type == "integer"
    assert {k: after[k] for k in before} == before
    assert after["later"]["views"] == 7 and after["later2"]["views"] is None
    kept = ("$createdAt", "$updatedAt", "$permissions", "title")
    assert {k: after["later"][k] for k in kept} == {k: since[k] for k in kept}


def test_replace_removes_rows_created_after_the_backup(
    ws: CliWorkspace, backup: Path, client: Client, tables: TablesDB, database: str
) -> None:
    before = rows_of(client, database)
    tables.create_row(database, "posts", "new1", {"title": "created since"})
    tables.update_row(database, "posts", "p007", {"title": "edited since"})
    tables.delete_row(database, "posts", "p008")

    merged = ws.run("restore", str(backup), "--env", "test")
    assert merged.code == 0, merged.output
    after = without_sequence(rows_of(client, database))
    assert "new1" in after and {k: after[k] for k in before} == without_sequence(before)

    replaced = ws.run("restore", str(backup), "--env", "test", "--mode", "replace")
    assert replaced.code == 0, replaced.output
    assert replaced.stdout.splitlines()[0] == (
        f"restored {ROWS} row(s) of posts, deleted 1 row(s) not in the backup"
    )
    assert without_sequence(rows_of(client, database)) == without_sequence(before)


def test_into_database_restores_beside_and_leaves_the_original_untouched(
    ws: CliWorkspace,
    backup: Path,
    client: Client,
    tables: TablesDB,
    database: str,
) -> None:
    delete_views(tables, database)
    original = rows_of(client, database)
    schema = schema_of(client, database)
    beside = database[:20] + "_restored"

    result = ws.run("restore", str(backup), "--env", "test", "--into-database", beside)
    assert result.code == 0, result.output
    assert "recreated the table, its columns and indexes" in result.stdout
    assert rows_of(client, database) == original
    assert schema_of(client, database) == schema
    copy = rows_of(client, beside)
    assert len(copy) == ROWS and copy["p004"]["views"] == 12
    assert copy["p004"]["$createdAt"] == original["p004"]["$createdAt"]


def test_bad_mode_and_database_are_refused(ws: CliWorkspace, backup: Path) -> None:
    bad = ws.run("restore", str(backup), "--env", "test", "--mode", "wipe")
    assert bad.code == 2 and "--mode 'wipe' is not one of merge, replace" in bad.stderr
    bad = ws.run("restore", str(backup), "--env", "test", "--into-database", "../x")
    assert bad.code == 2 and "is not an Appwrite id" in bad.stderr
