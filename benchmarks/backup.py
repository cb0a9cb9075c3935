"""How fast are backup and restore, and is the backup's memory flat?

On one table of N rows (default 100,000) in the local server (its own process):

  (a) sdk loop:  the official SDK paging the table with `cursorAfter` + `limit(100)`,
                 keeping nothing: the ceiling a streamed backup can reach;
  (b) backup:    `workbook.core.backup.export_tables` — the same paging, each row written
                 to the JSON-lines file and hashed, the manifest last;
  (c) insert:    the local server's bulk-insert rate, `create_rows` 100 rows a request;
  (d) restore:   `workbook.command.restore.restore_table` into another database (table
                 recreated, rows upserted in bulk with ids and timestamps, then read back
                 and checked: count and sha256).

Peak memory is Python's (tracemalloc) in this process during each phase, plus the backup's
and the restore's peak at a tenth of the rows, so growth with table size shows. Aims (issue
11): backup ≥ 0.9× the SDK loop, memory flat; restore ≥ 0.5× the bulk-insert rate.

    .venv/bin/python benchmarks/backup.py              # 100,000 rows
    .venv/bin/python benchmarks/backup.py --rows 5000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbook.command.restore import open_backup, restore_table  # noqa: E402
from workbook.core.backup import export_tables  # noqa: E402
from workbook.core.client import Target  # noqa: E402
from workbook.core.config import Environment  # noqa: E402
from workbook.local.server import start_local_server  # noqa: E402

BATCH = 100
DATABASE = "bench"
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 64, "required": False},
    {"key": "n", "type": "integer", "required": False},
    {"key": "flag", "type": "boolean", "required": False},
    {"key": "at", "type": "datetime", "required": False},
]


def values(seq: int) -> dict[str, Any]:
    return {
        "$id": f"r{seq}",
        "title": f"title number {seq}",
        "n": seq,
        "flag": seq % 2 == 0,
        "at": "2026-01-01T00:00:00.000+00:00",
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds and result of one phase (no tracing: tracemalloc slows Python down)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_mib(fn: Callable[[], Any]) -> float:
    """Python's peak memory (tracemalloc) during a second, traced run of a phase."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def insert(tables: TablesDB, table: str, rows: int) -> None:
    tables.create_table(DATABASE, table, table, columns=COLUMNS)
    for start in range(0, rows, BATCH):
        tables.create_rows(
            DATABASE, table, [values(i) for i in range(start, min(rows, start + BATCH))]
        )


def sdk_loop(tables: TablesDB, table: str) -> int:
    seen = 0
    cursor = None
    while True:
        queries = [Query.limit(BATCH)] + ([Query.cursor_after(cursor)] if cursor else [])
        page = tables.list_rows(DATABASE, table, queries=queries, total=False).rows
        seen += len(page)
        if len(page) < BATCH:
            return seen
        cursor = page[-1].id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory(prefix="workbook-bench-backup-") as scratch:
        folder = Path(scratch)
        server = start_local_server(folder / "server.sqlite", mode="process", schema_delay=0.0)
        try:
            client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
            client.set_key(server.api_key)
            tables = TablesDB(client)
            tables.create(DATABASE, DATABASE)
            env = Environment("bench", server.project_id, DATABASE, "UNUSED", server.endpoint)
            target = Target(env, client, server.endpoint)
            small = max(BATCH, rows // 10)

            t_insert, _ = timed(lambda: insert(tables, "items", rows))
            insert(tables, "small", small)
            t_sdk, seen = timed(lambda: sdk_loop(tables, "items"))
            assert seen == rows, seen
            t_backup, counts = timed(lambda: export_tables(target, folder / "b1", ["items"]))
            assert counts == {"items": rows}, counts
            m_sdk = peak_mib(lambda: sdk_loop(tables, "items"))
            m_backup = peak_mib(lambda: export_tables(target, folder / "b2", ["items"]))
            m_backup_small = peak_mib(lambda: export_tables(target, folder / "b3", ["small"]))
            [table] = open_backup(folder / "b1").tables
            for copy in ("copy", "copy2"):
                tables.create(copy, copy)
            t_restore, done = timed(
                lambda: restore_table(target, table, database="copy", mode="merge")
            )
            assert done.upserted == rows and done.checked == rows, done
            t_again, _ = timed(lambda: restore_table(target, table, database="copy"))
            m_restore = peak_mib(lambda: restore_table(target, table, database="copy2"))
            [small_table] = open_backup(folder / "b3").tables
            tables.create("copy3", "copy3")
            m_restore_small = peak_mib(lambda: restore_table(target, small_table, database="copy3"))
        finally:
            server.stop()

    def rate(seconds: float) -> float:
        return rows / seconds

    print(f"rows: {rows:,}")
    print(f"{'phase':<44}{'rows/s':>10}{'peak MiB':>10}")
    lines = [
        ("(a) SDK loop, cursor pages of 100", t_sdk, m_sdk),
        ("(b) backup (export_tables)", t_backup, m_backup),
        (f"    backup of {small:,} rows", None, m_backup_small),
        ("(c) bulk insert (create_rows, 100 a request)", t_insert, None),
        ("(d) restore into a new table (+ check)", t_restore, m_restore),
        ("(e) restore over the same rows (upsert + check)", t_again, None),
    ]
    for name, seconds, peak in lines:
        shown_rate = f"{rows / seconds:,.0f}" if seconds else ""
        shown_peak = f"{peak:.1f}" if peak is not None else ""
        print(f"{name:<44}{shown_rate:>10}{shown_peak:>10}")
    print(f"backup / SDK loop:   {t_sdk / t_backup:.2f}x  (aim >= 0.9)")
    print(f"restore / insert:    {t_insert / t_restore:.2f}x  (aim >= 0.5)")
    print(f"backup memory, {rows:,} vs {small:,} rows: {m_backup:.1f} vs {m_backup_small:.1f} MiB")
    print(
        f"restore memory, {rows:,} vs {small:,} rows: {m_restore:.1f} vs {m_restore_small:.1f} MiB"
    )


if __name__ == "__main__":
    main()
