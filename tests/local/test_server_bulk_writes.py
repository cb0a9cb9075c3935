"""Bulk writes go to SQLite as one statement per batch; these pin what must not change with that:
which row a conflict names, all-or-nothing batches, repeated ids in one upsert, and schema
caches that follow every change (another server on the same file, a column becoming available).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, unique_index, wait_status
from sdk_support import tables_for

from workbook.local.server import LocalServer, start_local_server

COLUMNS: list[dict[str, Any]] = [
    {"key": "title", "type": "varchar", "size": 20, "required": True},
    {"key": "views", "type": "integer", "required": False, "default": 0},
    {"key": "note", "type": "varchar", "size": 20, "required": False},
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "items", "Items", columns=COLUMNS)
    return "items"


def _ids(tables: TablesDB, database_id: str, table_id: str) -> list[str]:
    return [r.id for r in tables.list_rows(database_id, table_id, [Query.limit(100)]).rows]


def test_a_taken_id_in_a_batch_is_named_and_nothing_is_written(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tables.create_row(database_id, table_id, "taken", {"title": "old"})
    batch = [{"$id": f"n{i}", "title": f"t{i}"} for i in range(3)]
    error = error_of(
        tables.create_rows,
        database_id,
        table_id,
        [*batch, {"$id": "taken", "title": "again"}, {"$id": "n9", "title": "x"}],
    )
    assert (error.code, error.type) == (409, "row_already_exists")
    assert "'taken'" in error.message
    assert _ids(tables, database_id, table_id) == ["taken"]


def test_an_id_repeated_within_a_batch_is_named(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    error = error_of(
        tables.create_rows,
        database_id,
        table_id,
        [
            {"$id": "a", "title": "1"},
            {"$id": "twice", "title": "2"},
            {"$id": "twice", "title": "3"},
        ],
    )
    assert (error.code, error.type) == (409, "row_already_exists")
    assert "'twice'" in error.message
    assert _ids(tables, database_id, table_id) == []


def test_a_unique_index_conflict_in_a_batch_rolls_back_the_batch(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    unique_index(tables, client, database_id, table_id, "u_title", "title")
    tables.create_row(database_id, table_id, "first", {"title": "same"})
    error = error_of(
        tables.create_rows,
        database_id,
        table_id,
        [{"$id": "b1", "title": "fresh"}, {"$id": "b2", "title": "same"}],
    )
    assert (error.code, error.type) == (409, "row_unique_constraint_violation")
    error = error_of(
        tables.upsert_rows,
        database_id,
        table_id,
        [{"$id": "first", "title": "moved"}, {"$id": "b3", "title": "moved"}],
    )
    assert error.type == "row_unique_constraint_violation"
    assert _ids(tables, database_id, table_id) == ["first"]
    assert tables.get_row(database_id, table_id, "first").data["title"] == "same"


def test_a_unique_value_freed_earlier_in_the_batch_can_be_taken_later_in_it(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    unique_index(tables, client, database_id, table_id, "u_title", "title")
    tables.create_row(database_id, table_id, "old", {"title": "name"})
    result = tables.upsert_rows(
        database_id,
        table_id,
        [
            {"$id": "old", "title": "renamed"},
            {"$id": "new", "title": "name"},
        ],
    )
    assert [(r.id, r.data["title"]) for r in result.rows] == [("old", "renamed"), ("new", "name")]


def test_upsert_answers_in_request_order_and_sees_earlier_rows_of_its_batch(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    kept = tables.create_row(database_id, table_id, "kept", {"title": "k", "views": 5})
    result = tables.upsert_rows(
        database_id,
        table_id,
        [
            {"$id": "fresh", "title": "f", "note": "first"},
            {"$id": "kept", "title": "k2"},
            {"$id": "fresh", "title": "f2"},
        ],
    )
    rows = result.rows
    assert [r.id for r in rows] == ["fresh", "kept", "fresh"]
    assert rows[1].sequence == kept.sequence and rows[1].data["views"] == 5
    assert rows[0].sequence == rows[2].sequence != kept.sequence
    assert (rows[2].data["title"], rows[2].data["note"]) == ("f2", "first")
    stored = tables.get_row(database_id, table_id, "fresh")
    assert (stored.data["title"], stored.data["note"], stored.sequence) == (
        "f2",
        "first",
        rows[0].sequence,
    )


def test_bulk_create_answers_the_stored_rows(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    created = tables.create_rows(
        database_id, table_id, [{"$id": f"r{i}", "title": f"t{i}"} for i in range(5)]
    )
    listed = tables.list_rows(database_id, table_id).rows
    assert [r.to_dict() for r in created.rows] == [r.to_dict() for r in listed]
    assert [int(r.sequence) for r in created.rows] == sorted(int(r.sequence) for r in listed)


def test_a_schema_change_by_another_server_on_the_same_file_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with (
        start_local_server(path, schema_delay=0) as one,
        start_local_server(path, schema_delay=0, api_key=one.api_key) as two,
    ):
        first, second = _tables(one), _tables(two)
        first.create("d", "d")
        first.create_table("d", "t", "t", columns=COLUMNS)
        first.create_rows("d", "t", [{"$id": "a", "title": "A"}])
        second.create_varchar_column("d", "t", "extra", 10, False)
        wait_status(second.client, "d", "t", "extra")
        row = first.create_row("d", "t", "b", {"title": "B", "extra": "yes"})
        assert row.data["extra"] == "yes"
        second.delete_column("d", "t", "note")
        error = error_of(first.create_row, "d", "t", "c", {"title": "C", "note": "gone"})
        assert error.type == "row_invalid_structure" and '"note"' in error.message


def test_a_column_becoming_available_is_seen_without_another_schema_change(
    tmp_path: Path,
) -> None:
    with start_local_server(tmp_path / "delay.db", schema_delay=0.5) as server:
        tables = _tables(server)
        tables.create("d", "d")
        tables.create_table("d", "t", "t", columns=COLUMNS)
        tables.create_varchar_column("d", "t", "late", 10, False)
        error = error_of(tables.create_row, "d", "t", "early", {"title": "E", "late": "x"})
        assert error.type == "row_invalid_structure"
        wait_status(tables.client, "d", "t", "late")
        assert tables.create_row("d", "t", "later", {"title": "L", "late": "x"}).data["late"]


def _tables(server: LocalServer) -> TablesDB:
    return tables_for(server)
