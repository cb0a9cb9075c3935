"""Chunks of a partitioned backfill as Dask tasks.

A task carries the chunk, ``fn`` (cloudpickled) and a :class:`Connection`: the endpoint,
project, database and the *name* of the variable holding the API key, which each worker
reads from its own environment — the key itself is never part of a task. Tasks are never
retried (a retry is the migration's re-run, which skips the finished chunks); a failed
chunk comes back as one line and the others finish. The cluster is one given
(``cluster=`` a ``distributed.Client`` or a scheduler address), or a client already made
in this process, or Dask's ``scheduler-address`` setting (``DASK_SCHEDULER_ADDRESS``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from workbook.core.config import DEFAULT_CELL_TIMEOUT
from workbook.errors import OperationFailed
from workbook.runtime.backfill_chunks import ChunkJob, ChunkResult, RowFn, run_chunk
from workbook.runtime.progress import Progress
from workbook.settings import CELL_TIMEOUT, LOCAL_KEY

CONNECT_TIMEOUT = 10.0  # seconds a scheduler address has to answer


@dataclass(frozen=True)
class Connection:
    """How a Dask worker reaches the target: the key stays in the worker's environment."""

    endpoint: str
    project: str
    database_id: str
    key_variable: str
    self_signed: bool = False
    http_timeout: float = 30.0

    def ops(self) -> Any:
        from appwrite.services.tables_db import TablesDB

        from workbook.core.transport import RetryingClient
        from workbook.runtime.ops import Ops

        key = os.environ.get(self.key_variable, "")
        if not key:
            raise OperationFailed(
                f"this Dask worker has no API key in ${self.key_variable}",
                f"start the workers with {self.key_variable} set, as for the run itself",
            )
        client = RetryingClient(timeout=self.http_timeout)
        client.set_endpoint(self.endpoint).set_project(self.project).set_key(key)
        if self.self_signed:
            client.set_self_signed(True)
        return Ops(TablesDB(client), self.database_id)


def run_chunk_on_worker(connection: Connection, job: ChunkJob, fn: RowFn) -> ChunkResult:
    """The Dask task: the chunk through the worker's own client; failures come back as text
    (an exception class of the notebook may not unpickle on the client)."""
    try:
        return run_chunk(connection.ops(), job, fn)
    except Exception as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        hint = getattr(exc, "hint", None)
        return ChunkResult(job.chunk.index, error=f"{message} ({hint})" if hint else message)


def find_cluster(cluster: Any) -> tuple[Any, bool]:
    """The Dask client to run chunks on (None: run them here), and whether it was made
    here (then the caller closes it)."""
    if cluster is False:
        return None, False
    if cluster is not None and not isinstance(cluster, str):
        return cluster, False  # a distributed.Client
    try:
        import dask
        from distributed import Client, default_client
    except ImportError as exc:
        if cluster is None:
            return None, False
        raise OperationFailed(
            "backfill chunks run on Dask, which is not installed",
            hint='pip install "appwrite-workbook[fleet]", or leave cluster= out',
        ) from exc
    if cluster is None:
        try:
            return default_client(), False
        except ValueError:
            cluster = dask.config.get("scheduler-address", None)  # DASK_SCHEDULER_ADDRESS
            if not cluster:
                return None, False
    try:
        return Client(cluster, timeout=CONNECT_TIMEOUT, set_as_default=False), True
    except (OSError, TimeoutError) as exc:
        raise OperationFailed(
            f"the Dask scheduler at {cluster} did not answer within {CONNECT_TIMEOUT:g}s",
            hint="check the address (tcp://host:8786), or pass cluster=False to run here",
        ) from exc


def _cell_bound(ops: Any) -> float:
    """How long the chunks may take in all: as long as the cell running them may."""
    environment = getattr(ops, "environment", None)
    if environment is not None:
        return float(environment.bounds().cell)
    return CELL_TIMEOUT.seconds() or DEFAULT_CELL_TIMEOUT


def connection_of(ops: Any) -> Connection:
    """What a worker needs to reach the target this run writes to."""
    client = ops.tables.client
    target = getattr(ops, "target", None)
    variable = getattr(ops, "key_variable", None)
    if target is not None:
        env = target.environment
        variable = LOCAL_KEY.name if env.is_local else env.key_env
    if not variable:
        raise OperationFailed(
            "backfill chunks on a cluster need the name of the variable holding the API key",
            hint="set ops.key_variable = 'NAME' on an Ops made by hand (wb knows it)",
        )
    return Connection(
        endpoint=str(client._endpoint),
        project=str(client.get_config("project")),
        database_id=ops.database_id,
        key_variable=variable,
        self_signed=bool(getattr(client, "_self_signed", False)),
        http_timeout=float(getattr(client, "timeout", 30.0)),
    )


def on_cluster(
    ops: Any, client: Any, jobs: list[ChunkJob], fn: RowFn, progress: Progress
) -> list[ChunkResult]:
    """Every chunk as a task (never retried: a retry is the migration's re-run); the others
    finish even when one fails, so the re-run has less to do."""
    from distributed import as_completed

    if not jobs:
        return []
    connection = connection_of(ops)
    backups = getattr(ops.tables, "backups", None)
    if backups is not None:  # workers write with plain clients: back the table up here
        backups.before_write(jobs[0].table_id, "upsert_rows", ops.database_id)
    futures = [
        client.submit(
            run_chunk_on_worker,
            connection,
            job,
            fn,
            key=f"workbook-backfill-{job.record_id}-{time.monotonic_ns()}",
            pure=False,
            retries=0,
        )
        for job in jobs
    ]
    bound = _cell_bound(ops)
    results, failed = [], []
    try:
        for future in as_completed(futures, timeout=bound):
            try:
                result = future.result()
            except Exception as exc:  # the worker was lost
                result = ChunkResult(-1, error=f"a worker was lost ({type(exc).__name__})")
            (failed if result.error else results).append(result)
            progress.update()
    except KeyboardInterrupt:
        client.cancel(futures)  # chunks not started stay undone; running ones are recorded
        raise
    except TimeoutError as exc:
        client.cancel(futures)
        raise OperationFailed(
            f"backfill {jobs[0].table_id}: chunks not finished after {bound:g}s on the cluster",
            hint="the workers may be busy (a fleet's own tasks?); re-run with cluster=False",
        ) from exc
    if failed:
        first = min(failed, key=lambda r: r.index)
        which = f"chunk {first.index + 1}" if first.index >= 0 else "a chunk"
        raise OperationFailed(
            f"backfill {jobs[0].table_id}: {which} failed on the cluster: {first.error}",
            hint=f"fix the cause and re-run: the {len(results)} chunks finished now are skipped",
        )
    return results
