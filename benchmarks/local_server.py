"""How fast is the local server, against the two ceilings that bound it?

Three measurements of the same work (bulk insert in 100-row `create_rows` requests,
then cursor-paging every row with `cursorAfter` + `limit`):

  (a) echo:   the official SDK against a storage-free server on the same stack
              (`benchmarks/echo_server.py`): the best the SDK + HTTP can do;
  (b) sqlite: raw `sqlite3`, the same inserts (one commit per 100 rows, WAL) and the
              same cursor pages: the best the storage can do;
  (c) server: the official SDK against `start_local_server(..., mode="process")`.

It prints rows/s for each, the server/echo ratio, and the server process's RSS while
paging (sampled every 0.1 s) so a memory leak or a whole-table read shows up.

    .venv/bin/python benchmarks/local_server.py            # 100,000 rows
    .venv/bin/python benchmarks/local_server.py --rows 5000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from appwrite.client import Client
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from echo_server import bench_values  # noqa: E402

BATCH = 100
DATABASE_ID = "bench"
TABLE_ID = "items"
COLUMNS = [
    {"key": "title", "type": "varchar", "size": 64, "required": False},
    {"key": "n", "type": "integer", "required": False},
    {"key": "flag", "type": "boolean", "required": False},
    {"key": "at", "type": "datetime", "required": False},
]


@dataclass
class Phase:
    """One timed phase: wall-clock rows/s, and CPU microseconds per row on each side.

    CPU per row does not depend on what else the machine is doing, so it stays comparable
    on a busy shared machine where rows/s does not.
    """

    rows_per_s: float
    client_us: float
    server_us: float | None = None


@dataclass
class Figures:
    """One target: the insert phase and one paging phase per page size."""

    name: str
    insert: Phase | None = None
    paging: dict[int, Phase] = field(default_factory=dict)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def timed(rows: int, server_pid: int | None, out: list[Phase]) -> Iterator[None]:
    wall, client = time.perf_counter(), time.process_time()
    server = process_cpu(server_pid) if server_pid else 0.0
    yield
    wall, client = time.perf_counter() - wall, time.process_time() - client
    server_us = (process_cpu(server_pid) - server) * 1e6 / rows if server_pid else None
    out.append(Phase(rate(rows, wall), client * 1e6 / rows, server_us))


def bench_row(seq: int) -> dict[str, object]:
    return {"$id": f"r{seq:09d}", **bench_values(seq)}


def batches(total: int) -> Iterator[list[dict[str, object]]]:
    for start in range(1, total + 1, BATCH):
        yield [bench_row(seq) for seq in range(start, min(total, start + BATCH - 1) + 1)]


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


def sdk_insert(tables: TablesDB, total: int) -> None:
    for rows in batches(total):
        tables.create_rows(DATABASE_ID, TABLE_ID, rows=rows)


def sdk_page_all(tables: TablesDB, total: int, page: int) -> None:
    """Walk the whole table with cursorAfter; fail loudly if a row goes missing."""
    seen, cursor = 0, None
    while True:
        queries = [Query.limit(page)]
        if cursor is not None:
            queries.append(Query.cursor_after(cursor))
        result = tables.list_rows(DATABASE_ID, TABLE_ID, queries=queries, total=False)
        if not result.rows:
            break
        seen += len(result.rows)
        cursor = result.rows[-1].id
        if len(result.rows) < page:
            break
    if seen != total:
        raise SystemExit(f"paging by {page} saw {seen} rows, expected {total}")


def sdk_phases(tables: TablesDB, total: int, pages: list[int], pid: int, fig: Figures) -> None:
    out: list[Phase] = []
    with timed(total, pid, out):
        sdk_insert(tables, total)
    fig.insert = out.pop()
    for page in pages:
        with timed(total, pid, out):
            sdk_page_all(tables, total, page)
        fig.paging[page] = out.pop()


def sdk_client(endpoint: str, project: str, key: str) -> TablesDB:
    client = Client().set_endpoint(endpoint).set_project(project).set_key(key)
    return TablesDB(client)


@contextmanager
def echo_server(total: int) -> Iterator[tuple[str, int]]:
    script = Path(__file__).resolve().parent / "echo_server.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--rows", str(total)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure_echo(total: int, pages: list[int]) -> Figures:
    figures = Figures("echo")
    with echo_server(total) as (endpoint, pid):
        sdk_phases(sdk_client(endpoint, "bench", "unused"), total, pages, pid, figures)
    return figures


def raw_sqlite_schema(conn: sqlite3.Connection) -> str:
    """The server's own layout for the benchmark table: its system columns, then ALTER TABLE
    ADD COLUMN per column with the affinity the server picks. Returns the quoted table name."""
    from workbook.local.catalog import inline_column
    from workbook.local.columns import sql_affinity
    from workbook.local.store import SYSTEM_COLUMNS_SQL, quote, table_sql_name

    table = quote(table_sql_name(1))
    conn.execute(f"CREATE TABLE {table} ({SYSTEM_COLUMNS_SQL})")
    for item in COLUMNS:
        definition = inline_column(item)
        conn.execute(
            f"ALTER TABLE {table} ADD COLUMN {quote(item['key'])} {sql_affinity(definition)}"
        )
    return table


def measure_sqlite(total: int, pages: list[int], folder: Path) -> Figures:
    figures = Figures("sqlite")
    conn = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    table = raw_sqlite_schema(conn)
    stamp = "2026-01-01T00:00:00.000+00:00"
    insert = (
        f"INSERT INTO {table} (_uid, _createdAt, _updatedAt, _permissions, title, n, flag, at) "
        "VALUES (?, ?, ?, '[]', ?, ?, ?, ?)"
    )
    out: list[Phase] = []
    with timed(total, None, out):
        for rows in batches(total):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                insert,
                [(r["$id"], stamp, stamp, r["title"], r["n"], r["flag"], r["at"]) for r in rows],
            )
            conn.execute("COMMIT")
    figures.insert = out.pop()
    select = f"SELECT * FROM {table} WHERE _seq > ? ORDER BY _seq LIMIT ?"
    for page in pages:
        seen, after = 0, 0
        with timed(total, None, out):
            while True:
                rows = conn.execute(select, (after, page)).fetchall()
                if not rows:
                    break
                seen += len(rows)
                after = rows[-1][0]
        assert seen == total, f"raw paging by {page} saw {seen} rows"
        figures.paging[page] = out.pop()
    conn.close()
    return figures


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler:
    """Samples a process's resident memory every `interval` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(rss_kib(self.pid))


def create_schema(tables: TablesDB) -> None:
    tables.create(DATABASE_ID, "Benchmark")
    tables.create_table(DATABASE_ID, TABLE_ID, "Items", columns=COLUMNS)


def measure_server(
    total: int, pages: list[int], folder: Path, report: Callable[[str], None]
) -> Figures:
    from workbook.local.server import start_local_server

    figures = Figures("server")
    server = start_local_server(folder / "server.sqlite", mode="process")
    try:
        tables = sdk_client(server.endpoint, server.project_id, server.api_key)
        create_schema(tables)
        assert server.pid is not None
        pid = server.pid
        report(f"server RSS before insert: {rss_kib(pid) / 1024:.1f} MiB")
        out: list[Phase] = []
        with timed(total, pid, out):
            sdk_insert(tables, total)
        figures.insert = out.pop()
        for page in pages:
            with RssSampler(pid) as sampler, timed(total, pid, out):
                sdk_page_all(tables, total, page)
            figures.paging[page] = out.pop()
            s = sampler.samples
            report(
                f"server RSS paging by {page}: start {s[0] / 1024:.1f} MiB, "
                f"middle {s[len(s) // 2] / 1024:.1f} MiB, end {s[-1] / 1024:.1f} MiB, "
                f"peak {max(s) / 1024:.1f} MiB ({len(s)} samples)"
            )
    finally:
        server.stop()
    return figures


def phases(fig: Figures, pages: list[int]) -> list[Phase]:
    assert fig.insert is not None
    return [fig.insert, *(fig.paging[p] for p in pages)]


def print_table(results: list[Figures], pages: list[int]) -> None:
    names = ["insert", *(f"page {p}" for p in pages)]
    print(f"{'rows/s':<8}" + "".join(f" {n:>12}" for n in names))
    for fig in results:
        print(f"{fig.name:<8}" + "".join(f" {p.rows_per_s:>12,.0f}" for p in phases(fig, pages)))
    print(f"{'CPU us/row client+server':<8}")
    for fig in results:
        cells = [
            f"{p.client_us:.1f}+{p.server_us:.1f}"
            if p.server_us is not None
            else f"{p.client_us:.1f}"
            for p in phases(fig, pages)
        ]
        print(f"{fig.name:<8}" + "".join(f" {c:>12}" for c in cells))
    by_name = {fig.name: fig for fig in results}
    for other in ("echo", "sqlite"):
        if "server" in by_name and other in by_name:
            pairs = zip(
                phases(by_name["server"], pages), phases(by_name[other], pages), strict=True
            )
            ratios = [
                f"{n} {a.rows_per_s / b.rows_per_s:.3f}"
                for n, (a, b) in zip(names, pairs, strict=True)
            ]
            print(f"server/{other} rows/s: " + ", ".join(ratios))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to insert and page")
    parser.add_argument(
        "--pages", default="100,1000", help="comma-separated page sizes for cursor paging"
    )
    parser.add_argument(
        "--only", choices=["echo", "sqlite", "server"], action="append", help="run only these"
    )
    args = parser.parse_args(argv)
    pages = [int(p) for p in args.pages.split(",")]
    targets = args.only or ["echo", "sqlite", "server"]
    print(f"rows={args.rows} batch={BATCH} pages={pages} cpus={os.cpu_count()}", flush=True)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        folder = Path(tmp)
        if "echo" in targets:
            results.append(measure_echo(args.rows, pages))
        if "sqlite" in targets:
            results.append(measure_sqlite(args.rows, pages, folder))
        if "server" in targets:
            results.append(measure_server(args.rows, pages, folder, lambda s: print(s, flush=True)))
    print_table(results, pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
