"""Row paging and backfills over more than one page, live and dry."""

from __future__ import annotations

from typing import Any

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from ops_fixtures import *  # noqa: F403 - the module's fixtures
from ops_fixtures import writes_to

from workbook.errors import OperationFailed
from workbook.runtime.ops import Ops

ROWS = 250


def _seed(ops: Ops, tables: TablesDB, database_id: str) -> None:
    ops.create_table(
        "people",
        columns=[
            {"key": "first", "type": "varchar", "size": 50, "required": True},
            {"key": "last", "type": "varchar", "size": 50, "required": True},
            {"key": "full", "type": "varchar", "size": 120},
            {"key": "n", "type": "integer", "required": True},
        ],
    )
    for start in range(0, ROWS, 100):
        rows = [
            {"$id": f"p{i:04d}", "first": f"F{i}", "last": f"L{i}", "n": i}
            for i in range(start, min(start + 100, ROWS))
        ]
        tables.create_rows(database_id, "people", rows)


def test_iter_rows_pages_with_cursor(ops: Ops, tables: TablesDB, database_id: str) -> None:
    _seed(ops, tables, database_id)
    rows = list(ops.iter_rows("people", batch_size=30))
    assert len(rows) == ROWS
    assert len({r["$id"] for r in rows}) == ROWS
    assert rows[0]["first"] == "F0" and "$createdAt" in rows[0]
    evens = list(ops.iter_rows("people", [Query.less_than("n", 100)], batch_size=7))
    assert len(evens) == 100


def test_backfill_over_pages_then_rerun_changes_nothing(
    ops: Ops, tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    _seed(ops, tables, database_id)
    before = {r["$id"]: r for r in ops.iter_rows("people")}

    def full_name(row: dict[str, Any]) -> dict[str, Any] | None:
        wanted = f"{row['first']} {row['last']}"
        return None if row.get("full") == wanted else {"full": wanted}

    writes = len(writes_to(ops_server, database_id))
    assert ops.backfill("people", full_name, batch_size=40) == ROWS
    bulk = writes_to(ops_server, database_id)[writes:]
    assert len(bulk) == 7  # ceil(250 / 40) bulk upserts, not 250 row updates
    after = {r["$id"]: r for r in ops.iter_rows("people")}
    assert all(r["full"] == f"{r['first']} {r['last']}" for r in after.values())
    assert all(after[k]["$createdAt"] == before[k]["$createdAt"] for k in before)
    assert all(after[k]["n"] == before[k]["n"] for k in before)
    assert ops.backfill("people", full_name) == 0


def test_backfill_with_query_only_touches_matches(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    _seed(ops, tables, database_id)
    changed = ops.backfill(
        "people",
        lambda row: {"full": "x"},
        queries=[Query.greater_than_equal("n", 200)],
        batch_size=15,
    )
    assert changed == 50
    marked = [r for r in ops.iter_rows("people") if r.get("full") == "x"]
    assert len(marked) == 50


def test_dry_run_backfill_counts_and_writes_nothing(
    ops: Ops, tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    _seed(ops, tables, database_id)
    dry = Ops(tables, database_id, dry_run=True)
    writes = len(writes_to(ops_server, database_id))
    assert dry.backfill("people", lambda row: {"full": "x"} if row["n"] % 2 else None) == 125
    assert len(writes_to(ops_server, database_id)) == writes
    [step] = dry.plan.steps
    assert (step.operation, step.target, step.detail["rows"], step.detail["scanned"]) == (
        "backfill",
        "people",
        125,
        ROWS,
    )
    assert all(r.get("full") is None for r in ops.iter_rows("people"))


def test_backfill_with_select_writes_only_the_changes(
    ops: Ops, tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    _seed(ops, tables, database_id)
    writes = len(writes_to(ops_server, database_id))
    changed = ops.backfill(
        "people",
        lambda row: {"full": row["first"]} if row["n"] < 3 else None,
        queries=[Query.select(["$id", "first", "n"])],
    )
    assert changed == 3
    assert len(writes_to(ops_server, database_id)) - writes == 3  # per-row PATCH
    rows = {r["$id"]: r for r in ops.iter_rows("people", [Query.less_than("n", 3)])}
    assert rows["p0000"]["full"] == "F0" and rows["p0000"]["last"] == "L0"


def test_iter_rows_refuses_its_own_paging_queries(ops: Ops) -> None:
    ops.create_table("people")
    with pytest.raises(OperationFailed, match="may not contain limit"):
        list(ops.iter_rows("people", [Query.limit(5)]))
