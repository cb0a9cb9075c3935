"""Backups and restores of relationship and spatial columns.

A backup holds relationship values as the related rows' ids (Appwrite answers them only when
a select names them) and spatial values as coordinates. A restore puts tables, plain and
spatial columns and rows back first, then recreates missing relationship columns (parent
side; a two-way one brings its other side) and links the rows again, keeping their
``$updatedAt``. A relationship whose related table is neither in the target nor restored is
refused in one line, before anything is written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.enums.relationship_type import RelationshipType
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, assert_refused

from workbook.core.paging import iter_items
from workbook.local.server import LocalServer


def wait(read: Any, *args: str) -> None:
    for _ in range(300):
        try:
            if str(getattr(read(*args).status, "value", "")) == "available":
                return
        except AppwriteException:
            return  # gone: what a delete waits for
        time.sleep(0.02)
    raise AssertionError(f"{args} never settled")


def wait_gone(tables: TablesDB, database: str, table: str, key: str) -> None:
    for _ in range(300):
        try:
            tables.get_column(database, table, key)
        except AppwriteException:
            return
        time.sleep(0.02)
    raise AssertionError(f"{table}.{key} was not deleted")


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    db = database_id
    tables.create_table(
        db, "authors", "Authors", columns=[{"key": "name", "type": "varchar", "size": 20}]
    )
    tables.create_table(
        db,
        "posts",
        "Posts",
        columns=[
            {"key": "title", "type": "varchar", "size": 20, "required": True},
            {"key": "spot", "type": "point", "required": False},
        ],
    )
    tables.create_relationship_column(
        db, "posts", "authors", RelationshipType.MANYTOONE, two_way=True, key="author",
        two_way_key="posts",
    )  # fmt: skip
    wait(tables.get_column, db, "posts", "author")
    for author in ("a1", "a2"):
        tables.create_row(db, "authors", author, {"name": author.upper()})
    posts = {
        "p1": {"author": "a1", "spot": [1.5, 2.5]},
        "p2": {"author": "a1"},
        "p3": {"author": "a2", "spot": [-3.0, 4.0]},
        "p4": {},
    }
    for row_id, data in posts.items():
        data = {"title": row_id, **data, "$updatedAt": "2024-05-06T07:08:09.000+00:00"}
        tables.create_row(db, "posts", row_id, data)
    return db


def posts_of(client: Client, database: str) -> dict[str, dict[str, Any]]:
    """Every post with its author's id, its point and its timestamps."""
    path = f"/tablesdb/{database}/tables/posts/rows"
    rows = iter_items(client, path, "rows", [Query.select(["*", "author.$id"])])
    return {
        r["$id"]: {
            "author": (r.get("author") or {}).get("$id"),
            "spot": r.get("spot"),
            "title": r["title"],
            "$createdAt": r["$createdAt"],
            "$updatedAt": r["$updatedAt"],
        }
        for r in rows
    }


def test_the_backup_holds_links_as_ids_and_points_as_coordinates(backup: Path) -> None:
    posts = [json.loads(x) for x in (backup / "posts.jsonl").read_text().splitlines()]
    assert [(p["$id"], p["author"], p["spot"]) for p in posts] == [
        ("p1", "a1", [1.5, 2.5]),
        ("p2", "a1", None),
        ("p3", "a2", [-3.0, 4.0]),
        ("p4", None, None),
    ]
    authors = [json.loads(x) for x in (backup / "authors.jsonl").read_text().splitlines()]
    assert {a["$id"]: sorted(a["posts"]) for a in authors} == {"a1": ["p1", "p2"], "a2": ["p3"]}


def test_a_deleted_relationship_and_point_column_are_undone(
    ws: CliWorkspace, backup: Path, client: Client, tables: TablesDB, database: str
) -> None:
    before = posts_of(client, database)
    tables.delete_column(database, "posts", "author")  # both sides go
    tables.delete_column(database, "posts", "spot")
    wait_gone(tables, database, "posts", "author")
    wait_gone(tables, database, "posts", "spot")

    result = ws.run("restore", str(backup), "--env", "test")
    assert result.code == 0, result.output
    assert "  recreated column spot (point)" in result.stdout
    assert "  recreated relationship column author (manyToOne → authors)" in result.stdout
    assert "  linked 3 row(s) through author" in result.stdout
    assert "  checked: 3 row(s) linked as backed up (sha256)" in result.stdout
    assert posts_of(client, database) == before
    assert tables.get_column(database, "authors", "posts").type == "relationship"


def test_into_another_database_both_tables_come_back_linked(
    ws: CliWorkspace, backup: Path, client: Client, database: str
) -> None:
    result = ws.run("restore", str(backup), "--env", "test", "--into-database", "copy1")
    assert result.code == 0, result.output
    copied = posts_of(client, "copy1")
    assert {k: v["author"] for k, v in copied.items()} == {
        "p1": "a1",
        "p2": "a1",
        "p3": "a2",
        "p4": None,
    }
    assert copied == posts_of(client, database)  # same ids, values, timestamps


def test_a_relationship_to_a_table_neither_there_nor_restored_is_refused_first(
    ws: CliWorkspace, backup: Path, local_server: LocalServer, tables: TablesDB
) -> None:
    local_server.clear_request_log()
    refused = ws.run(
        "restore", str(backup), "--env", "test", "--table", "posts", "--into-database", "copy2"
    )
    assert_refused(
        refused,
        "cannot restore relationship column posts.author: its related table authors is "
        "neither in database 'copy2' nor among the tables restored",
        "--table authors",
    )
    writes = [r["path"] for r in local_server.request_log() if r["method"] != "GET"]
    # the only writes are the restore's own lock (taken and released), none of the backup's
    assert [p for p in writes if "copy2" in p or "/posts" in p or "/authors" in p] == []
    with pytest.raises(AppwriteException):
        tables.get("copy2")


def test_rows_of_a_linked_table_come_back_a_row_per_request(
    ws: CliWorkspace,
    backup: Path,
    client: Client,
    tables: TablesDB,
    database: str,
    local_server: LocalServer,
) -> None:
    before = posts_of(client, database)
    tables.update_row(database, "posts", "p1", {"title": "edited", "author": "a2"})
    tables.delete_row(database, "posts", "p4")
    local_server.clear_request_log()
    result = ws.run("restore", str(backup), "--env", "test", "--table", "posts")
    assert result.code == 0, result.output
    assert posts_of(client, database) == before
    puts = [r["path"] for r in local_server.request_log() if r["method"] == "PUT"]
    assert sorted(p.rsplit("/", 1)[1] for p in puts) == ["p1", "p2", "p3", "p4"]  # no bulk
