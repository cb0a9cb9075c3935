"""Schema as code, timed: a diff of two 200-table × 50-column schemas (aim < 0.5 s); a replay
of N migrations cold, then warm after adding one (aim: warm costs about one migration, shown
beside one migration run alone by ``workbook up``); a drift check of a 200-table environment
(aim: one pull).

    .venv/bin/python benchmarks/schema.py [--count 20] [--tables 200] [--columns 50]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from workbook.command import commands, replay
from workbook.core.config import Workspace
from workbook.core.schema import Schema, snapshot
from workbook.core.schema_diff import live_marker, plan
from workbook.local.server import start_local_server

KINDS = [
    {"type": "varchar", "size": 64},
    {"type": "integer", "min": 0, "max": 1000},
    {"type": "float"},
    {"type": "boolean"},
    {"type": "datetime"},
    {"type": "email"},
    {"type": "enum", "elements": ["a", "b", "c"]},
    {"type": "text"},
]


def stored_column(key: str, kind: dict[str, Any]) -> dict[str, Any]:
    column = {"key": key, "required": False, "array": False, "status": "available", **kind}
    if kind["type"] in ("email", "enum"):
        column.update(type="string", format=kind["type"], size=254)
    if kind["type"] == "float":
        column.update(type="double", min=-1.7976931348623157e308, max=1.7976931348623157e308)
    return column


def big_schema(tables: int, columns: int, rng: random.Random) -> Schema:
    items = []
    for t in range(tables):
        cols = [stored_column(f"c{c:02d}", rng.choice(KINDS)) for c in range(columns)]
        indexes = [{"key": "by_c00", "type": "key", "columns": ["c00"], "orders": ["ASC"]}]
        items.append({"$id": f"t{t:03d}", "name": f"T{t}", "columns": cols, "indexes": indexes})
    return Schema("main", items)


def mutate(schema: Schema, rng: random.Random) -> Schema:
    other = copy.deepcopy(schema)
    for table in other.tables:
        for column in table["columns"]:
            roll = rng.random()
            if roll < 0.02:
                column["required"] = not column["required"]
            elif roll < 0.03 and column.get("type") == "varchar":
                column["size"] = 128
        if rng.random() < 0.1:
            table["columns"].append(stored_column("extra", KINDS[0]))
    other.tables.append({"$id": "zz_new", "name": "New", "columns": [], "indexes": []})
    return other


def bench_diff(tables: int, columns: int) -> None:
    rng = random.Random(7)
    a = big_schema(tables, columns, rng)
    b = mutate(a, rng)
    start = time.perf_counter()
    changes = plan(a, b)
    seconds = time.perf_counter() - start
    print(
        f"diff {tables} tables × {columns} columns: {seconds:.3f} s "
        f"({len(changes)} changes; aim < 0.5 s)"
    )


def add_migration(ws: Workspace, i: int) -> None:
    up = (
        f'%%up\nwb.create_table("t{i:03d}", "T{i}", columns=[{{"key": "name", '
        f'"type": "varchar", "size": 64}}])'
    )
    down = f'%%down\nwb.delete_table("t{i:03d}")'
    commands.create(ws, f"step_{i:03d}", cells={"up": up, "down": down})


def bench_replay(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-replay-") as folder:
        ws = Workspace(Path(folder))
        ws.migrations.mkdir()
        for i in range(count):
            add_migration(ws, i)
        start = time.perf_counter()
        schema = replay.expected(ws)
        cold = time.perf_counter() - start
        add_migration(ws, count)
        start = time.perf_counter()
        schema = replay.expected(ws)
        warm = time.perf_counter() - start
        start = time.perf_counter()
        replay.expected(ws)
        hit = time.perf_counter() - start
        assert len(schema.tables) == count + 1
    alone = one_migration_alone()
    print(
        f"replay {count} migrations cold: {cold:.1f} s ({cold / count:.2f} s each, kernel "
        f"starts hidden behind the previous run); warm after adding one: {warm:.1f} s "
        f"(baseline, one migration alone by `workbook up`: {alone:.1f} s; aim: about one); "
        f"unchanged: {hit:.3f} s"
    )


def one_migration_alone() -> float:
    """What "one migration" costs on its own: ``workbook up`` of a single migration on a
    fresh local environment (its kernel start included, as a warm replay's is)."""
    with tempfile.TemporaryDirectory(prefix="wb-bench-one-") as folder:
        ws = Workspace(Path(folder))
        ws.migrations.mkdir()
        add_migration(ws, 0)
        start = time.perf_counter()
        results = commands.up(ws, ["local"], backup=False)
        seconds = time.perf_counter() - start
        assert [r.status for r in results] == ["applied"], results
        return seconds


def bench_drift(tables: int, columns: int) -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bench-drift-") as folder:
        server = start_local_server(Path(folder) / "s.db", schema_delay=0.0)
        try:
            client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
            client.set_key(server.api_key)
            db = TablesDB(client)
            db.create("main", "Main")
            for t in range(tables):
                cols = [
                    {"key": f"c{c:02d}", "type": "integer", "required": False}
                    for c in range(columns)
                ]
                db.create_table("main", f"t{t:03d}", f"T{t}", columns=cols)
            start = time.perf_counter()
            marker = live_marker(client, "main")
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            snapshot(client, "main")
            pull = time.perf_counter() - start
            print(
                f"drift check, {tables} tables × {columns} columns: {seconds:.2f} s "
                f"(one pull alone: {pull:.2f} s; marker {marker[:12]})"
            )
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="migrations to replay")
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("WORKBOOK_USER", "benchmark")
    bench_diff(args.tables, args.columns)
    bench_drift(args.tables, args.columns)
    if not args.skip_replay:
        bench_replay(args.count)


if __name__ == "__main__":
    main()
