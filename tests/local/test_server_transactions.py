"""Transactions through the official SDK: create/get/list/update/delete, staged row writes
(single, bulk, increment) applied in order at commit inside one SQLite transaction, reads
inside the transaction, conflicts, rollback, expiry, the operation limit, bad input."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of

from workbook.local.server import LocalServer

COLUMNS: list[dict[str, Any]] = [
    {"key": "title", "type": "varchar", "size": 20, "required": True},
    {"key": "views", "type": "integer", "required": False, "min": 0, "max": 1000, "default": 0},
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "posts", "Posts", columns=COLUMNS)
    return "posts"


def _ids(tables: TablesDB, database_id: str, table_id: str, **kw: Any) -> dict[str, Any]:
    listed = tables.list_rows(database_id, table_id, [Query.limit(100)], **kw)
    return {row.id: row.data for row in listed.rows}


def test_a_transaction_is_created_listed_got_and_deleted(tables: TablesDB) -> None:
    made = tables.create_transaction(ttl=60)
    assert made.status == "pending" and made.operations == 0
    assert made.expiresat > made.createdat
    assert tables.get_transaction(made.id).id == made.id
    assert made.id in [t.id for t in tables.list_transactions().transactions]
    tables.delete_transaction(made.id)
    assert error_of(tables.get_transaction, made.id).type == "transaction_not_found"
    for ttl in (59, 3601):
        assert error_of(tables.create_transaction, ttl=ttl).type == "general_argument_invalid"


def test_staged_writes_apply_in_order_at_commit_and_not_before(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tables.create_row(database_id, table_id, "old", {"title": "old", "views": 5})
    tables.create_row(database_id, table_id, "gone", {"title": "gone"})
    tx = tables.create_transaction().id
    mock = tables.create_row(database_id, table_id, "a", {"title": "A"}, transaction_id=tx)
    assert mock.id == "a" and mock.data["title"] == "A"
    tables.update_row(database_id, table_id, "a", {"views": 7}, transaction_id=tx)
    tables.increment_row_column(database_id, table_id, "old", "views", 3, transaction_id=tx)
    tables.upsert_row(database_id, table_id, "b", {"title": "B"}, transaction_id=tx)
    tables.delete_row(database_id, table_id, "gone", transaction_id=tx)
    staged = tables.create_rows(
        database_id, table_id, [{"$id": "c", "title": "C"}], transaction_id=tx
    )
    assert staged.total == 0 and staged.rows == []
    tables.update_rows(
        database_id, table_id, {"views": 9}, [Query.equal("title", "C")], transaction_id=tx
    )
    assert tables.get_transaction(tx).operations == 7
    assert set(_ids(tables, database_id, table_id)) == {"old", "gone"}
    inside = _ids(tables, database_id, table_id, transaction_id=tx)
    assert set(inside) == {"old", "a", "b", "c"} and inside["a"]["views"] == 7
    assert tables.get_row(database_id, table_id, "c", transaction_id=tx).data["views"] == 9
    assert set(_ids(tables, database_id, table_id)) == {"old", "gone"}

    done = tables.update_transaction(tx, commit=True)
    assert done.status == "committed"
    after = _ids(tables, database_id, table_id)
    assert set(after) == {"old", "a", "b", "c"}
    assert (after["old"]["views"], after["a"]["views"], after["c"]["views"]) == (8, 7, 9)
    error = error_of(tables.update_transaction, tx, commit=True)
    assert (error.code, error.type) == (400, "transaction_not_ready")
    error = error_of(
        tables.create_row, database_id, table_id, "z", {"title": "Z"}, transaction_id=tx
    )
    assert (error.code, error.type) == (400, "transaction_invalid")


def test_operations_route_stages_a_batch(tables: TablesDB, database_id: str, table_id: str) -> None:
    tx = tables.create_transaction().id
    ops = [
        {"action": "create", "databaseId": database_id, "tableId": table_id, "rowId": "x",
         "data": {"title": "X"}},
        {"action": "update", "databaseId": database_id, "tableId": table_id, "rowId": "x",
         "data": {"views": 2}},
    ]  # fmt: skip
    assert tables.create_operations(tx, ops).operations == 2
    tables.update_transaction(tx, commit=True)
    assert tables.get_row(database_id, table_id, "x").data["views"] == 2
    error = error_of(tables.create_operations, tables.create_transaction().id, [])
    assert error.type == "general_argument_invalid"


def test_a_row_changed_since_staging_fails_the_whole_commit(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tables.create_row(database_id, table_id, "r", {"title": "r"})
    tx = tables.create_transaction().id
    tables.create_row(database_id, table_id, "new", {"title": "new"}, transaction_id=tx)
    tables.update_row(database_id, table_id, "r", {"views": 1}, transaction_id=tx)
    time.sleep(0.002)  # timestamps have milliseconds: the other write is strictly later
    tables.update_row(database_id, table_id, "r", {"views": 50})  # someone else, after staging
    error = error_of(tables.update_transaction, tx, commit=True)
    assert (error.code, error.type) == (409, "transaction_conflict")
    rows = _ids(tables, database_id, table_id)
    assert set(rows) == {"r"} and rows["r"]["views"] == 50
    assert tables.get_transaction(tx).status == "failed"


def test_a_failing_operation_commits_nothing(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tx = tables.create_transaction().id
    tables.create_row(database_id, table_id, "ok", {"title": "ok"}, transaction_id=tx)
    tables.create_row(database_id, table_id, "bad", {"views": 1}, transaction_id=tx)  # no title
    error = error_of(tables.update_transaction, tx, commit=True)
    assert error.type == "row_invalid_structure"
    assert _ids(tables, database_id, table_id) == {}
    assert tables.get_transaction(tx).status == "failed"


def test_rollback_discards_and_staging_checks_rows_in_the_transaction_view(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tx = tables.create_transaction().id
    error = error_of(
        tables.update_row, database_id, table_id, "nope", {"views": 1}, transaction_id=tx
    )
    assert error.type == "row_not_found"
    tables.create_row(database_id, table_id, "n", {"title": "n"}, transaction_id=tx)
    tables.update_row(database_id, table_id, "n", {"views": 1}, transaction_id=tx)
    assert tables.update_transaction(tx, rollback=True).status == "failed"
    assert _ids(tables, database_id, table_id) == {}
    error = error_of(tables.update_transaction, tx)
    assert (error.code, error.type) == (400, "general_bad_request")


def test_operation_limit_and_unknown_transaction(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    tx = tables.create_transaction().id
    ops = [
        {"action": "create", "databaseId": database_id, "tableId": table_id, "rowId": f"r{n}",
         "data": {"title": "t"}}
        for n in range(100)
    ]  # fmt: skip
    tables.create_operations(tx, ops[:60])
    error = error_of(tables.create_operations, tx, ops[60:] + ops[:1])
    assert (error.code, error.type) == (400, "transaction_limit_exceeded")
    assert "would exceed the maximum of 100" in error.message
    assert tables.get_transaction(tx).operations == 60
    error = error_of(
        tables.create_row, database_id, table_id, "q", {"title": "q"}, transaction_id="ghost"
    )
    assert (error.code, error.type) == (404, "transaction_not_found")


def test_an_expired_transaction_refuses_writes_and_commit(
    tables: TablesDB, local_server: LocalServer, database_id: str, table_id: str
) -> None:
    tx = tables.create_transaction(ttl=60).id
    tables.create_row(database_id, table_id, "e", {"title": "e"}, transaction_id=tx)
    with sqlite3.connect(local_server.db_path) as conn:  # the clock moves past the TTL
        conn.execute(
            "UPDATE wb_transactions SET expires_at = '2000-01-01T00:00:00.000+00:00' WHERE id = ?",
            (tx,),
        )
    for call in (
        lambda: tables.update_transaction(tx, commit=True),
        lambda: tables.create_row(database_id, table_id, "f", {"title": "f"}, transaction_id=tx),
    ):
        error = error_of(call)
        assert (error.code, error.type) == (410, "transaction_expired")
    assert _ids(tables, database_id, table_id) == {}
