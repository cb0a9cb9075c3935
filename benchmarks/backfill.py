"""What do partitions, transactions and a Dask cluster cost or gain a backfill?

On tables of N rows (default 20,000) in the local server (its own process), one backfill
each, rows per second:

  (a) one pass:      ``ops.backfill(table, fn)``, the unpartitioned baseline;
  (b) partitions:    ``partitions=P`` in this process (chunks one after the other, each
                     recorded in ``workbook_backfill``): the price of resumability;
  (c) transactions:  ``partitions=P, transaction=True``: each chunk one transaction;
  (d) cluster:       ``partitions=P`` on a Dask ``LocalCluster`` of W worker processes
                     (one thread each), started and warmed (imports) before the clock starts.

The local server is one process on the same machine, so a cluster gains only what the
server can serve in parallel; on a busy machine all figures are lower.

    .venv/bin/python benchmarks/backfill.py                     # 20,000 rows, P=8, W=2
    .venv/bin/python benchmarks/backfill.py --rows 5000 --workers 4
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbook.local.server import start_local_server  # noqa: E402
from workbook.runtime.ops import Ops  # noqa: E402

DATABASE = "bench"
KEY_VARIABLE = "BENCH_BACKFILL_KEY"


def label(row: dict[str, Any]) -> dict[str, Any] | None:
    wanted = f"#{row['n']}"
    return None if row.get("label") == wanted else {"label": wanted}


def seed(ops: Ops, tables: TablesDB, table: str, rows: int) -> None:
    ops.create_table(
        table,
        columns=[
            {"key": "n", "type": "integer", "required": True},
            {"key": "label", "type": "varchar", "size": 40},
        ],
    )
    for start in range(0, rows, 100):
        batch = [{"n": i} for i in range(start, min(start + 100, rows))]
        tables.create_rows(DATABASE, table, [{"$id": f"r{b['n']}", **b} for b in batch])


def timed(what: str, rows: int, call: Callable[[], int], baseline: float | None) -> float:
    clock = time.perf_counter()
    changed = call()
    seconds = time.perf_counter() - clock
    assert changed == rows, f"{what}: {changed} rows changed, expected {rows}"
    rate = rows / seconds
    versus = f"  ({rate / baseline:.2f}× one pass)" if baseline else ""
    print(f"{what:<34} {seconds:7.2f} s {rate:9.0f} rows/s{versus}", flush=True)
    return rate


def _warm() -> None:
    import workbook.runtime.backfill  # noqa: F401
    import workbook.runtime.ops  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client as DaskClient
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as scratch:
        server = start_local_server(Path(scratch) / "bench.db", schema_delay=0, mode="process")
        try:
            client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
            client.set_key(server.api_key)
            tables = TablesDB(client)
            tables.create(DATABASE, DATABASE)
            ops = Ops(tables, DATABASE, poll_interval=0.02)
            ops.key_variable = KEY_VARIABLE  # type: ignore[attr-defined]
            os.environ[KEY_VARIABLE] = server.api_key  # the workers inherit it
            names = ("one", "parts", "tx", "cluster")
            for name in names:
                seed(ops, tables, name, args.rows)
            p, w = args.partitions, args.workers
            print(f"{args.rows} rows, {p} partitions, {w} workers; machine cores: {os.cpu_count()}")
            base = timed("one pass (baseline)", args.rows, lambda: ops.backfill("one", label), None)
            timed(
                f"partitions={p}, in process",
                args.rows,
                lambda: ops.backfill("parts", label, partitions=p, cluster=False),
                base,
            )
            timed(
                f"partitions={p}, transaction=True",
                args.rows,
                lambda: ops.backfill("tx", label, partitions=p, transaction=True, cluster=False),
                base,
            )
            with (
                LocalCluster(
                    n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0"
                ) as cluster,
                DaskClient(cluster) as dask_client,
            ):
                dask_client.run(_warm)  # imports done before the clock, as in a kept cluster
                timed(
                    f"partitions={p}, LocalCluster of {w}",
                    args.rows,
                    lambda: ops.backfill("cluster", label, partitions=p, cluster=dask_client),
                    base,
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
