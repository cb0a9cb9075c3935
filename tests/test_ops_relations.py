"""`wb.add_relationship` / `update_relationship` / `delete_relationship` and
`with wb.transaction():` against the local server: idempotent, waiting, dry-run aware;
a transaction commits whole, rolls back on an exception, and a conflict commits nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from ops_fixtures import *  # noqa: F403 - the module's fixtures
from ops_fixtures import writes_to

from workbook.errors import OperationFailed
from workbook.runtime.ops import Ops

NAME = [{"key": "name", "type": "varchar", "size": 40, "required": False}]


def _tables(tables: TablesDB, database_id: str) -> None:
    tables.create_table(database_id, "authors", "Authors", columns=NAME)
    tables.create_table(database_id, "books", "Books", columns=NAME)


def test_add_relationship_waits_is_idempotent_and_dry_runs_as_a_plan(
    ops: Ops, tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    _tables(tables, database_id)
    dry = Ops(tables, database_id, dry_run=True)
    writes = len(writes_to(ops_server, database_id))
    dry.add_relationship("books", "authors", "manyToOne", key="author", two_way=True,
                         two_way_key="books")  # fmt: skip
    assert len(writes_to(ops_server, database_id)) == writes
    [step] = dry.plan.steps
    assert (step.operation, step.target) == ("add_relationship", "books.author")
    assert dry.column("authors", "books")["side"] == "child"  # the shadow has both sides

    column = ops.add_relationship(
        "books", "authors", "manyToOne", key="author", two_way=True, two_way_key="books"
    )
    assert column is not None and column["status"] == "available"
    assert ops.column("authors", "books")["side"] == "child"
    again = ops.add_relationship(
        "books", "authors", "manyToOne", key="author", two_way=True, two_way_key="books"
    )
    assert again is not None and again["key"] == "author"
    with pytest.raises(OperationFailed, match="differs"):
        ops.add_relationship("books", "authors", "oneToOne", key="author")
    updated = ops.update_relationship("books", "author", on_delete="cascade")
    assert updated is not None and updated["onDelete"] == "cascade"
    ops.delete_relationship("books", "author")
    assert ops.column("books", "author") is None and ops.column("authors", "books") is None


def test_a_transaction_commits_whole_or_rolls_back(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    _tables(tables, database_id)
    ops.add_relationship("books", "authors", "manyToOne", key="author")
    tables.create_row(database_id, "authors", "a", {"name": "Ann"})
    tables.create_row(database_id, "books", "b1", {"name": "One"})
    tables.create_row(database_id, "books", "b2", {"name": "Two"})
    with ops.transaction() as tx:
        tx.update_row("books", "b1", {"author": "a"})
        tx.update_row("books", "b2", {"author": "a"})
        assert (
            tables.get_row(database_id, "books", "b1", [Query.select(["author.*"])]).data["author"]
            is None
        )  # nothing visible outside before the commit
    linked = tables.list_rows(database_id, "books", [Query.select(["*", "author.*"])]).rows
    assert {r.id: r.data["author"]["$id"] for r in linked} == {"b1": "a", "b2": "a"}

    with pytest.raises(RuntimeError), ops.transaction() as tx:
        tx.update_row("books", "b1", {"name": "changed"})
        raise RuntimeError("the step failed half way")
    assert tables.get_row(database_id, "books", "b1").data["name"] == "One"

    with pytest.raises(OperationFailed, match="conflict"), ops.transaction() as tx:
        tx.update_row("books", "b2", {"name": "mine"})
        tx.create_row("books", "b3", {"name": "Three"})
        time.sleep(0.002)  # timestamps have milliseconds: the other write is strictly later
        tables.update_row(database_id, "books", "b2", {"name": "theirs"})
    assert tables.get_row(database_id, "books", "b2").data["name"] == "theirs"
    assert {r.id for r in tables.list_rows(database_id, "books").rows} == {"b1", "b2"}


def test_a_dry_run_transaction_is_plan_steps(
    tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    _tables(tables, database_id)
    dry = Ops(tables, database_id, dry_run=True)
    writes = len(writes_to(ops_server, database_id))
    with dry.transaction() as tx:
        tx.create_row("books", "b", {"name": "B"})
    assert len(writes_to(ops_server, database_id)) == writes
    assert [s.operation for s in dry.plan.steps][-1] == "commit_transaction"
    assert len(dry.plan.steps) == 2
