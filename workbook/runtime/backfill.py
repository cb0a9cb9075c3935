"""Partitioned backfills: a large table split by ``$sequence`` into chunks that resume.

``wb.backfill(table, fn, partitions=N)`` cuts the table's ``$sequence`` span into N ranges
(the first and last open-ended, so rows added meanwhile are not missed) and backfills each
as one idempotent chunk. A finished chunk leaves a row in ``workbook_backfill`` (the
target's own table, next to the ledger), so a migration that dies half way resumes on its
re-run from the last finished chunk and says which it skipped; the chunk bounds are kept
too (the plan row), so a re-run cuts the table the same way. Records are honoured only
for a re-run of the same migration after a failed run (the ledger tells): a rolled-back
and re-applied migration backfills again. When every chunk is finished the records are
removed.

Where a Dask cluster is at hand (``cluster=`` a ``distributed.Client`` or a scheduler
address, else a client already made in this process, else Dask's ``scheduler-address``
setting, i.e. ``DASK_SCHEDULER_ADDRESS``) the chunks run on its workers, which read the API
key from the same environment variable as the run (never sent with the task); otherwise
they run here, one after the other. ``fn`` travels to the workers with cloudpickle.

``transaction=True`` writes each chunk's rows and its progress record in one Appwrite
transaction: the chunk commits whole or not at all. Appwrite takes at most
:data:`TRANSACTION_LIMIT` operations per transaction (a bulk write counts as one), so
chunks are cut small enough to fit, and a chunk that still would not fit is refused and
rolled back with a line saying what to change.

One chunk's work is ``backfill_chunks.py`` (the same in the kernel and on a worker); the
Dask side is ``backfill_dask.py``; this module plans, skips, records and reports.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.core.client import GONE_TYPES, one_line, step_failed
from workbook.core.ledger import BACKFILL_TABLE, Ledger, RunState
from workbook.core.paging import iter_items, raw_get
from workbook.errors import OperationFailed
from workbook.runtime.backfill_chunks import (
    PLAN_CHUNK,
    TRANSACTION_LIMIT,
    Chunk,
    ChunkJob,
    ChunkResult,
    RowFn,
    record_id,
    run_chunk,
)
from workbook.runtime.backfill_dask import find_cluster, on_cluster
from workbook.runtime.dryrun import NO_OP
from workbook.runtime.progress import Progress
from workbook.settings import BATCH


def partitioned_backfill(
    ops: Any,
    table_id: str,
    fn: RowFn,
    *,
    partitions: int,
    queries: Sequence[str] = (),
    batch_size: int = 100,
    per_row: bool = False,
    transaction: bool = False,
    cluster: Any = None,
    name: str | None = None,
) -> int:
    """Backfill ``table_id`` in ``partitions`` chunks (see the module's docstring); returns
    how many rows this call changed (a dry run: would change)."""
    if partitions < 1:
        raise OperationFailed(
            f"backfill {table_id}: partitions={partitions} is not a number of chunks",
            hint="give partitions=1 or more",
        )
    key = backfill_key(ops, table_id, fn, name)
    honoured = _resumable_runs(ops)
    records = _records(ops, key, honoured)
    plan_row = records.pop(PLAN_CHUNK, None)
    if plan_row is not None and plan_row.get("bounds"):
        chunks = chunks_from_bounds(json.loads(plan_row["bounds"]))
    else:
        records = {}  # chunk records without their plan are not trusted
        span = sequence_span(ops, table_id)
        limit = _rows_per_transaction(per_row, batch_size) if transaction else None
        chunks = plan_chunks(span, partitions, limit)
        if len(chunks) > partitions and not ops.dry_run:
            _say(
                f"backfill {table_id}: {len(chunks)} chunks instead of {partitions}, so each "
                f"fits one transaction ({TRANSACTION_LIMIT} operations at most)"
            )
    finished = [c for c in chunks if c.index in records]
    todo = [c for c in chunks if c.index not in records]
    if finished:
        done_rows = sum(int(records[c.index].get("changed") or 0) for c in finished)
        verb = "would skip" if ops.dry_run else "skipped"
        _say(
            f"backfill {table_id}: {verb} {len(finished)} of {len(chunks)} chunks finished by "
            f"an earlier run ({_ranges(finished)}; {done_rows} rows changed then)"
        )
    run_id = str(getattr(ops, "run_id", "") or "")
    jobs = [
        ChunkJob(table_id, key, run_id, c, tuple(queries), batch_size, per_row, transaction)
        for c in todo
    ]
    if ops.dry_run:
        return _plan(ops, table_id, fn, jobs, chunks, finished, transaction)
    client, ours = find_cluster(cluster)  # an address that does not answer: nothing written
    progress = Progress(f"backfill {table_id}", "chunks", total=len(chunks))
    try:
        Ledger(ops.tables, ops.database_id, "").ensure_backfills()
        if plan_row is None or not plan_row.get("bounds"):
            _write_plan(ops, key, run_id, chunks)
        progress.update(len(finished))
        if client is None:
            results = [_progressing(progress, run_chunk(ops, job, fn)) for job in jobs]
        else:
            results = on_cluster(ops, client, jobs, fn, progress)
    finally:
        progress.close()
        if ours:  # a client made here for an address: not left connected
            client.close()
    _forget(ops, key)
    return sum(r.changed for r in results)


def backfill_key(ops: Any, table_id: str, fn: RowFn, name: str | None) -> str:
    """Which backfill this is: migration and direction, table, and ``name`` (default: the
    function's name; two lambda backfills of one table in one migration need a name)."""
    migration = getattr(ops, "migration", None)
    scope = f"{migration.version}:{getattr(ops, 'direction', 'up')}" if migration else "ops"
    label = name or getattr(fn, "__qualname__", None) or "fn"
    return f"{scope}:{table_id}:{label}"[:255]


def _resumable_runs(ops: Any) -> set[str] | None:
    """The runs whose finished chunks this run may skip: its own, and the failed runs of the
    same migration since it was last applied or rolled back (None: no ledger to ask)."""
    migration = getattr(ops, "migration", None)
    ledger = getattr(ops, "ledger", None)
    if migration is None or ledger is None:
        return None
    own = str(getattr(ops, "run_id", ""))
    honoured = {own}
    runs = [r for r in ledger.runs() if int(r.version) == int(migration.version)]
    for run in reversed(runs):
        if run.run_id == own:
            continue
        if run.direction != getattr(ops, "direction", "up"):
            break  # rolled back (or forward) since: its data may be gone
        if run.state in (RunState.APPLIED, RunState.STAMPED):
            break  # finished since: a new run starts afresh
        honoured.add(run.run_id)  # failed, settled, or stopped at a gate
    return honoured


def _records(ops: Any, key: str, honoured: set[str] | None) -> dict[int, dict[str, Any]]:
    """Finished chunks (and the plan row) of this backfill that this run may trust."""
    path = f"/tablesdb/{ops.database_id}/tables/{BACKFILL_TABLE}/rows"
    try:
        rows = list(iter_items(ops.tables.client, path, "rows", [Query.equal("backfill", key)]))
    except AppwriteException as exc:
        if exc.code == 404 and exc.type in GONE_TYPES:
            return {}  # no backfill has recorded anything in this database yet
        raise OperationFailed(f"reading {BACKFILL_TABLE} failed: {one_line(exc)}") from exc
    found = {}
    for row in rows:
        if honoured is None or row.get("run_id") in honoured:
            found[int(row["chunk"])] = row
    return found


def sequence_span(ops: Any, table_id: str) -> tuple[int, int] | None:
    """The lowest and highest ``$sequence`` of the table (None: no rows, or not yet made)."""
    if table_id in getattr(ops, "_planned_tables", ()):
        return None
    path = f"/tablesdb/{ops.database_id}/tables/{table_id}/rows"
    ends = []
    for order in (Query.order_asc("$sequence"), Query.order_desc("$sequence")):
        try:
            rows = raw_get(
                ops.tables.client, path, {"queries": [order, Query.limit(1)], "total": False}
            )["rows"]
        except AppwriteException as exc:
            if exc.code == 404 and exc.type in GONE_TYPES:
                raise OperationFailed(f"backfill {table_id}: table does not exist") from exc
            raise OperationFailed(f"reading {path} failed: {one_line(exc)}") from exc
        if not rows:
            return None
        ends.append(int(rows[0]["$sequence"]))
    return ends[0], ends[1]


def plan_chunks(span: tuple[int, int] | None, partitions: int, limit: int | None) -> list[Chunk]:
    """``partitions`` equal ``$sequence`` ranges (more if a chunk must stay within ``limit``
    rows: sequences are unique, so a range of width ``limit`` holds at most that many)."""
    if span is None:
        return [Chunk(0, None, None)]
    low, high = span
    width = high - low + 1
    count = max(1, min(partitions, width))
    if limit is not None:
        count = max(count, math.ceil(width / limit))
    step = math.ceil(width / count)
    bounds = [low + i * step for i in range(1, count) if low + i * step <= high]
    return chunks_from_bounds(bounds)


def chunks_from_bounds(bounds: list[int]) -> list[Chunk]:
    edges: list[int | None] = [None, *bounds, None]
    return [Chunk(i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def _rows_per_transaction(per_row: bool, batch_size: int) -> int:
    """How many changed rows one chunk's transaction can hold, its record included."""
    if per_row:
        return TRANSACTION_LIMIT - 1
    return (TRANSACTION_LIMIT - 1) * max(1, min(batch_size, TRANSACTION_LIMIT))


def _write_plan(ops: Any, key: str, run_id: str, chunks: list[Chunk]) -> None:
    bounds = [c.lo for c in chunks[1:]]
    data = {"backfill": key, "chunk": PLAN_CHUNK, "run_id": run_id, "bounds": json.dumps(bounds)}
    try:
        ops.tables.upsert_row(ops.database_id, BACKFILL_TABLE, record_id(key, PLAN_CHUNK), data)
    except AppwriteException as exc:
        raise step_failed("recording the backfill's chunks", exc) from exc


def _forget(ops: Any, key: str) -> None:
    """Every chunk finished: the records have done their job."""
    try:
        ops.tables.delete_rows(ops.database_id, BACKFILL_TABLE, [Query.equal("backfill", key)])
    except AppwriteException as exc:
        raise step_failed("clearing the finished backfill's records", exc) from exc


def _say(text: str) -> None:
    """A line for the notebook's output; when the kernel runs unattended, on the kernel's
    own stderr instead: the runner shows it in the operator's terminal and the kernel's
    output capture puts it in the archived notebook (printed both ways, it shows twice)."""
    stream = sys.__stderr__ if (BATCH.get() or "0") != "0" else None
    print(text, file=stream or sys.stdout, flush=True)


def _progressing(progress: Progress, result: ChunkResult) -> ChunkResult:
    progress.update()
    return result


def _plan(
    ops: Any,
    table_id: str,
    fn: RowFn,
    jobs: list[ChunkJob],
    chunks: list[Chunk],
    finished: list[Chunk],
    transaction: bool,
) -> int:
    """A dry run: count what each chunk would change, here; record nothing."""
    changed = scanned = 0
    for job in jobs:
        rows = ops.iter_rows(table_id, [*job.queries, *job.chunk.queries()], job.batch_size)
        for row in rows:
            scanned += 1
            changed += 1 if fn(dict(row)) else 0
    detail = {
        "rows": changed,
        "scanned": scanned,
        "chunks": len(chunks),
        "skipped": len(finished),
        "transaction": transaction,
    }
    ops.plan.add("backfill", table_id, detail, effect="change" if changed else NO_OP)
    return changed


def _ranges(chunks: list[Chunk]) -> str:
    """``chunks 1-3, 5`` (1-based, as a person counts them)."""
    groups: list[list[int]] = []
    for number in (c.index + 1 for c in chunks):
        if groups and groups[-1][-1] == number - 1:
            groups[-1].append(number)
        else:
            groups.append([number])
    text = ", ".join(f"{g[0]}" if len(g) == 1 else f"{g[0]}-{g[-1]}" for g in groups)
    return ("chunk " if len(chunks) == 1 else "chunks ") + text
