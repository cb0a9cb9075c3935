"""Partitioned backfills (workbook/runtime/backfill.py) through the SDK on the local server:
the same result as one pass, an honest interruption resumed from the last finished chunk,
chunks committed whole in transactions, chunks on a real Dask LocalCluster, dry runs."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from cli_inproc import add_environment, new_workspace
from ops_fixtures import *  # noqa: F403 - the module's fixtures
from ops_fixtures import writes_to

from workbook.core.ledger import BACKFILL_TABLE
from workbook.errors import OperationFailed
from workbook.runtime import backfill_dask
from workbook.runtime.backfill import plan_chunks
from workbook.runtime.backfill_chunks import Chunk, ChunkJob
from workbook.runtime.ops import Ops

ROWS = 250


class Boom(Exception):
    """The interruption: fn fails at one row."""


def _seed(ops: Ops, tables: TablesDB, database_id: str, table: str = "people") -> None:
    ops.create_table(
        table,
        columns=[
            {"key": "n", "type": "integer", "required": True},
            {"key": "label", "type": "varchar", "size": 40},
        ],
    )
    for start in range(0, ROWS, 100):
        rows = [{"$id": f"p{i:04d}", "n": i} for i in range(start, min(start + 100, ROWS))]
        tables.create_rows(database_id, table, rows)


def _label(row: dict[str, Any]) -> dict[str, Any] | None:
    wanted = f"#{row['n']}"
    return None if row.get("label") == wanted else {"label": wanted}


def _labels(ops: Ops, table: str = "people") -> dict[str, Any]:
    return {r["$id"]: r.get("label") for r in ops.iter_rows(table)}


def _records(tables: TablesDB, database_id: str) -> list[dict[str, Any]]:
    try:
        found = tables.list_rows(database_id, BACKFILL_TABLE, [Query.limit(100)])
    except AppwriteException as exc:
        assert exc.code == 404
        return []
    return [r.to_dict()["data"] | {"$id": r.id} for r in found.rows]


def _chunk_records(tables: TablesDB, database_id: str) -> list[int]:
    return sorted(r["chunk"] for r in _records(tables, database_id) if r["chunk"] >= 0)


def test_partitioned_gives_the_unpartitioned_result(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    _seed(ops, tables, database_id, "people")
    _seed(ops, tables, database_id, "people_copy")
    assert ops.backfill("people_copy", _label, batch_size=40) == ROWS
    assert ops.backfill("people", _label, partitions=7, batch_size=40) == ROWS
    assert _labels(ops, "people") == _labels(ops, "people_copy")
    assert all(label is not None for label in _labels(ops).values())
    assert _records(tables, database_id) == []  # every chunk finished: records removed
    assert ops.backfill("people", _label, partitions=7) == 0  # idempotent


def test_bad_partitions_refused_before_anything_is_written(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    _seed(ops, tables, database_id)
    with pytest.raises(OperationFailed, match="partitions=0 is not a number of chunks"):
        ops.backfill("people", _label, partitions=0)
    assert _records(tables, database_id) == []
    assert all(label is None for label in _labels(ops).values())


def test_a_scheduler_that_does_not_answer_is_one_line_and_nothing_written(
    ops: Ops, tables: TablesDB, database_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(ops, tables, database_id)
    monkeypatch.setattr(backfill_dask, "CONNECT_TIMEOUT", 1.0)  # the test's patience
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"  # nobody listens there
    clock = time.monotonic()
    with pytest.raises(OperationFailed, match=f"scheduler at {address} did not answer") as e:
        ops.backfill("people", _label, partitions=2, cluster=address)
    assert time.monotonic() - clock < 30
    assert "cluster=False" in (e.value.hint or "")
    assert _records(tables, database_id) == []
    assert all(label is None for label in _labels(ops).values())


def test_plan_cuts_sequences_and_fits_transactions() -> None:
    chunks = plan_chunks((1, 250), 4, None)
    assert [(c.lo, c.hi) for c in chunks] == [(None, 64), (64, 127), (127, 190), (190, None)]
    assert len(plan_chunks((1, 250), 1, 99)) == 3  # ≤ 99 rows each, with the record: ≤ 100
    assert len(plan_chunks((5, 6), 10, None)) == 2  # never more chunks than sequences
    assert [(c.lo, c.hi) for c in plan_chunks(None, 4, None)] == [(None, None)]


def test_interrupted_backfill_resumes_from_last_finished_chunk(
    ops: Ops,
    tables: TablesDB,
    database_id: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(ops, tables, database_id)
    calls: list[int] = []

    def failing(row: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(row["n"])
        if row["n"] == 130:  # in chunk 3 of 5 (sequences 1-50, 51-100, 101-150, ...)
            raise Boom("row 130")
        return _label(row)

    with pytest.raises(Boom):
        ops.backfill("people", failing, partitions=5, batch_size=20, name="labels")
    assert _chunk_records(tables, database_id) == [0, 1]  # chunks 1 and 2 finished
    labels = _labels(ops)
    assert all(labels[f"p{i:04d}"] == f"#{i}" for i in range(100))
    assert all(labels[f"p{i:04d}"] is None for i in range(150, ROWS))

    calls.clear()
    capfd.readouterr()
    monkeypatch.setenv("WORKBOOK_BATCH", "1")  # unattended: the operator's terminal too

    def counting(row: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(row["n"])
        return _label(row)

    changed = ops.backfill("people", counting, partitions=5, batch_size=20, name="labels")
    said = capfd.readouterr()
    line = "skipped 2 of 5 chunks finished by an earlier run (chunks 1-2"
    assert line in said.err  # the kernel's stderr: the runner's terminal and the archive
    assert sorted(calls) == list(range(100, ROWS))  # finished chunks are not read again
    assert changed == ROWS - 120  # rows 100-119 were written before the failure
    assert all(label == f"#{int(k[1:])}" for k, label in _labels(ops).items())
    assert _records(tables, database_id) == []


def test_transaction_chunk_commits_whole_or_not_at_all(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    _seed(ops, tables, database_id)

    def failing(row: dict[str, Any]) -> dict[str, Any] | None:
        if row["n"] == 90:  # chunk 2 of 4 (sequences 64-126), after three staged batches
            raise Boom("row 90")
        return _label(row)

    with pytest.raises(Boom):
        ops.backfill("people", failing, partitions=4, batch_size=8, transaction=True)
    labels = _labels(ops)
    assert all(labels[f"p{i:04d}"] == f"#{i}" for i in range(63))  # chunk 1 committed
    assert all(labels[f"p{i:04d}"] is None for i in range(63, ROWS))  # chunk 2: nothing
    assert _chunk_records(tables, database_id) == [0]  # and no record for it

    assert ops.backfill("people", _label, partitions=4, batch_size=8, transaction=True) == 187
    assert all(label == f"#{int(k[1:])}" for k, label in _labels(ops).items())


def test_transaction_on_a_relationship_table_cuts_chunks_to_fit(
    ops: Ops, tables: TablesDB, database_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Appwrite refuses bulk writes on tables with relationships: one operation per row,
    so 250 rows need three transactions of at most 99 rows and their record."""
    _seed(ops, tables, database_id)
    ops.create_table("teams", columns=[{"key": "name", "type": "varchar", "size": 20}])
    ops.add_relationship("people", "teams", "manyToOne", key="team")
    assert ops.backfill("people", _label, transaction=True) == ROWS
    assert "3 chunks instead of 1, so each fits one transaction" in capsys.readouterr().out
    assert all(label == f"#{int(k[1:])}" for k, label in _labels(ops).items())


def test_transaction_refuses_a_chunk_beyond_the_operation_limit(
    ops: Ops, tables: TablesDB, database_id: str
) -> None:
    """Chunks are cut to fit when planned; rows added afterwards to the open last chunk can
    make it too large, and then it is refused whole with a line saying what to change."""
    _seed(ops, tables, database_id)

    def stop_in_chunk_two(row: dict[str, Any]) -> dict[str, Any] | None:
        if row["n"] == 150:
            raise Boom("stop")
        return _label(row)

    # batch_size=2: two rows a staged write, so ≤ 198 rows a chunk: 2 chunks of 125
    with pytest.raises(Boom):
        ops.backfill("people", stop_in_chunk_two, batch_size=2, transaction=True, name="t")
    more = [{"$id": f"q{i:04d}", "n": 1000 + i} for i in range(100)]
    tables.create_rows(database_id, "people", more)  # the last chunk now has 225 rows
    with pytest.raises(OperationFailed, match="more than 100 operations") as refused:
        ops.backfill("people", _label, batch_size=2, transaction=True, name="t")
    assert "partitions=" in (refused.value.hint or "")
    labels = _labels(ops)
    assert all(labels[f"p{i:04d}"] == f"#{i}" for i in range(125))  # chunk 1
    assert all(labels[f"p{i:04d}"] is None for i in range(125, ROWS))  # chunk 2: nothing
    assert all(labels[f"q{i:04d}"] is None for i in range(100))
    assert _chunk_records(tables, database_id) == [0]


def test_chunks_on_a_dask_local_cluster(
    ops: Ops,
    tables: TablesDB,
    database_id: str,
    ops_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker process of its own: fn travels by cloudpickle, the key by its variable."""
    import distributed  # the fleet extra: missing, the test fails (CI installs it)

    for table in ("people", "people_by_address", "people_here"):
        _seed(ops, tables, database_id, table)
    monkeypatch.setenv("BACKFILL_TEST_KEY", ops_server.api_key)  # the worker inherits it
    ops.key_variable = "BACKFILL_TEST_KEY"  # type: ignore[attr-defined]

    def failing(row: dict[str, Any]) -> dict[str, Any] | None:
        if row["n"] == 10:
            raise ValueError("bad row 10")
        return _label(row)

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as stream,
    ):
        with pytest.raises(OperationFailed, match="chunk 1 failed on the cluster: ValueErr"):
            ops.backfill("people", failing, partitions=4, cluster=client, name="d")
        assert _chunk_records(tables, database_id) == [1, 2, 3]  # the others finished
        assert ops.backfill("people", _label, partitions=4, name="d") == 63  # client found
        address = cluster.scheduler_address  # or given by its scheduler's address
        assert ops.backfill("people_by_address", _label, partitions=4, cluster=address) == ROWS
    ran = [t["key"] for t in stream.data if "workbook-backfill" in str(t["key"])]
    assert len(ran) == 4 + 1 + 4  # every chunk ran on the worker, none here
    assert ops.backfill("people_here", _label, partitions=4, cluster=False) == ROWS
    assert _labels(ops, "people") == _labels(ops, "people_here")
    assert _labels(ops, "people_by_address") == _labels(ops, "people_here")
    assert _records(tables, database_id) == []


def test_dry_run_plans_chunks_and_writes_nothing(
    tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    live = Ops(tables, database_id, poll_interval=0.02, timeout=10.0)
    _seed(live, tables, database_id)
    before = len(writes_to(ops_server, database_id))
    dry = Ops(tables, database_id, dry_run=True, poll_interval=0.02, timeout=10.0)
    assert dry.backfill("people", _label, partitions=5, transaction=True) == ROWS
    assert len(writes_to(ops_server, database_id)) == before
    step = [s for s in dry.plan.to_records() if s["operation"] == "backfill"][-1]
    assert step["detail"]["chunks"] == 5 and step["detail"]["rows"] == ROWS
    assert _records(tables, database_id) == []
    assert all(label is None for label in _labels(live).values())


def test_a_migration_rerun_resumes_and_a_rolled_back_one_starts_afresh(
    ops_server: Any,
    tables: TablesDB,
    database_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through ``workbook.connect`` (a kernel running alone): finished chunks are skipped
    only by a re-run after a failed run of the same migration, as the ledger tells."""
    from workbook.runtime import session

    ws = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, ops_server, database=database_id)
    for name, value in ws.environ().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(ws.root)
    calls: list[int] = []

    def failing(row: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(row["n"])
        if row["n"] == 130:  # chunk 3 of 5
            raise Boom("row 130")
        return _label(row)

    first = session.connect("test", "001")
    _seed(first, tables, database_id)
    with pytest.raises(Boom):
        first.backfill("people", failing, partitions=5, name="labels")
    first.fail("Boom: row 130")
    assert _chunk_records(tables, database_id) == [0, 1]

    calls.clear()
    capsys.readouterr()
    second = session.connect("test", "001")  # the re-run of the failed migration
    with pytest.raises(Boom):
        second.backfill("people", failing, partitions=5, name="labels")
    second.fail("Boom: row 130 again")
    assert calls == list(range(100, 131))  # chunks 1-2 skipped, not read again
    assert "skipped 2 of 5 chunks" in capsys.readouterr().out

    resolved = ws.run("resolve", "001", "--rolled-back", "--env", "test")
    assert resolved.code == 0, resolved.output
    calls.clear()
    third = session.connect("test", "001")  # after a roll-back: the records are not trusted
    assert third.backfill("people", _label_counting(calls), partitions=5, name="labels") > 0
    assert sorted(calls) == list(range(ROWS))
    assert "skipped" not in capsys.readouterr().out
    third.done()
    assert _records(tables, database_id) == []


def _label_counting(calls: list[int]) -> Any:
    def counting(row: dict[str, Any]) -> dict[str, Any] | None:
        calls.append(row["n"])
        return _label(row)

    return counting


def test_a_worker_without_the_key_variable_fails_its_chunk_with_the_variable_named(
    ops: Ops,
    tables: TablesDB,
    database_id: str,
    ops_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a worker runs (in this process here): the key is read from the worker's own
    environment, and a missing one is one line naming the variable, nothing written."""
    _seed(ops, tables, database_id)
    monkeypatch.delenv("BACKFILL_UNSET_KEY", raising=False)
    ops.key_variable = "BACKFILL_UNSET_KEY"  # type: ignore[attr-defined]
    connection = backfill_dask.connection_of(ops)
    assert ops_server.api_key not in repr(connection)  # the task carries no secret
    job = ChunkJob("people", "k", "run", Chunk(0, None, None), (), 100, False, False)
    result = backfill_dask.run_chunk_on_worker(connection, job, _label)
    assert result.error is not None and "$BACKFILL_UNSET_KEY" in result.error
    assert all(label is None for label in _labels(ops).values())
