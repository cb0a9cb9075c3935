"""One chunk of a partitioned backfill, wherever it runs: its rows read by ``$sequence``
range, changed by ``fn``, written back, and the chunk recorded finished in
``workbook_backfill`` — with ``transaction=True`` the writes and the record in one Appwrite
transaction, so the chunk commits whole or not at all. Used in the kernel and by Dask
workers alike (``workbook/runtime/backfill_dask.py``); the whole backfill is
``workbook/runtime/backfill.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.core.client import step_failed
from workbook.core.ledger import BACKFILL_TABLE, now
from workbook.errors import OperationFailed
from workbook.runtime.row_batches import Change, RowFn, apply_in_batches, whole_rows

TRANSACTION_LIMIT = 100  # operations per transaction: Appwrite's databasesTransactionSize
# A chunk's transaction lives as long as Appwrite allows (seconds): staging locks nothing
# (conflicts are found at commit), and one left behind by a crash just expires.
TRANSACTION_TTL = 3600
PLAN_CHUNK = -1  # the record holding the chunk bounds


@dataclass(frozen=True)
class Chunk:
    """Rows with ``lo <= $sequence < hi`` (None: open on that side)."""

    index: int
    lo: int | None
    hi: int | None

    def queries(self) -> list[str]:
        found = []
        if self.lo is not None:
            found.append(Query.greater_than_equal("$sequence", self.lo))
        if self.hi is not None:
            found.append(Query.less_than("$sequence", self.hi))
        return found


@dataclass(frozen=True)
class ChunkJob:
    """Everything one chunk needs, wherever it runs (picklable)."""

    table_id: str
    key: str  # the backfill's key in workbook_backfill
    run_id: str
    chunk: Chunk
    queries: tuple[str, ...]
    batch_size: int
    per_row: bool
    transaction: bool

    @property
    def record_id(self) -> str:
        return record_id(self.key, self.chunk.index)


@dataclass(frozen=True)
class ChunkResult:
    index: int
    scanned: int = 0
    changed: int = 0
    error: str | None = None  # a worker's failure, as one line


def record_id(key: str, chunk: int) -> str:
    """A valid Appwrite id, the same for the same chunk of the same backfill."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"{digest}_{'plan' if chunk == PLAN_CHUNK else chunk}"


def run_chunk(ops: Any, job: ChunkJob, fn: RowFn) -> ChunkResult:
    """Backfill one chunk with ``ops`` and record it finished (one transaction if asked)."""
    if job.transaction:
        return _run_in_transaction(ops, job, fn)
    scanned, changed = apply_in_batches(
        ops.iter_rows(job.table_id, [*job.queries, *job.chunk.queries()], job.batch_size),
        fn,
        max(1, min(job.batch_size, TRANSACTION_LIMIT)),
        lambda batch: ops._write_back(job.table_id, batch, job.per_row),
    )
    _write_record(ops.tables.upsert_row, ops.database_id, job, scanned, changed)
    return ChunkResult(job.chunk.index, scanned, changed)


def _run_in_transaction(ops: Any, job: ChunkJob, fn: RowFn) -> ChunkResult:
    write_size = 1 if job.per_row else max(1, min(job.batch_size, TRANSACTION_LIMIT))
    where = f"backfill {job.table_id} chunk {job.chunk.index + 1}"
    with ops.transaction(ttl=TRANSACTION_TTL) as tx:

        def stage(batch: list[Change]) -> None:
            if tx.staged + 2 > TRANSACTION_LIMIT:  # this write and the progress record
                raise OperationFailed(
                    f"{where} needs more than {TRANSACTION_LIMIT} operations in one "
                    "transaction (Appwrite's limit); nothing of it was written",
                    hint="give more partitions= (or a larger batch_size=), or leave "
                    "transaction=True out",
                )
            if job.per_row:
                for row, changes in batch:
                    tx.update_row(job.table_id, row["$id"], changes)
            else:
                tx.upsert_rows(job.table_id, whole_rows(batch))

        found = ops.iter_rows(job.table_id, [*job.queries, *job.chunk.queries()], job.batch_size)
        scanned, changed = apply_in_batches(found, fn, write_size, stage)
        _write_record(tx.upsert_row, None, job, scanned, changed)
    return ChunkResult(job.chunk.index, scanned, changed)


def _write_record(
    write: Callable[..., Any], database_id: str | None, job: ChunkJob, scanned: int, changed: int
) -> None:
    data = {
        "backfill": job.key,
        "chunk": job.chunk.index,
        "run_id": job.run_id,
        "scanned": scanned,
        "changed": changed,
        "finished_at": now(),
    }
    args = (BACKFILL_TABLE, job.record_id, data)
    try:
        write(database_id, *args) if database_id is not None else write(*args)
    except AppwriteException as exc:
        raise step_failed(f"recording backfill chunk {job.chunk.index + 1}", exc) from exc
