"""Fleet throughput: tenant-migrations per minute at --parallel 1, 2 and 4, beside the same
tenants run as one sequential `--env` list.

Every tenant is a database of one embedded server reached over HTTP (a remote environment
as far as Workbook knows); each measurement starts from fresh databases.

    .venv/bin/python benchmarks/fleet.py [--tenants 8] [--migrations 2] [--parallel 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbook.command import commands, fleet  # noqa: E402
from workbook.core.config import Workspace  # noqa: E402
from workbook.local.server import start_local_server  # noqa: E402

KEY_ENV = "FLEET_BENCH_KEY"


def workspace(root: Path, server: object, tenants: int, migrations: int) -> tuple[Workspace, list]:
    root.mkdir(parents=True)
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    tables = TablesDB(client.set_key(server.api_key))
    prefix = uuid.uuid4().hex[:6]
    ids = [f"t{i:03d}" for i in range(1, tenants + 1)]
    lines = ["tenant,project,database,key_env"]
    for t in ids:
        database = f"db{prefix}{t}"
        tables.create(database, database)
        lines.append(f"{t},{server.project_id},{database},{KEY_ENV}")
    (root / "tenants.csv").write_text("\n".join(lines) + "\n")
    (root / "workbook.toml").write_text(
        f'[environments.tenant]\nendpoint = "{server.endpoint}"\n'
        f'project = "{server.project_id}"\nkey_env = "{KEY_ENV}"\n\n'
        '[fleets.bench]\ntemplate = "tenant"\ntenants = "tenants.csv"\nper_endpoint = 8\n'
    )
    ws = Workspace(root)
    for i in range(migrations):
        commands.create(ws, f"step_{i}")
    return ws, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=8)
    parser.add_argument("--migrations", type=int, default=2)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    work = args.tenants * args.migrations
    with tempfile.TemporaryDirectory() as tmp:
        server = start_local_server(Path(tmp) / "bench.db", schema_delay=0.01)
        os.environ[KEY_ENV] = server.api_key
        try:
            rows = []
            ws, ids = workspace(Path(tmp) / "sequential", server, args.tenants, args.migrations)
            start = time.perf_counter()
            results = commands.up(ws, ids)
            assert all(r.ok for r in results) and len(results) == work
            rows.append(("sequential --env list", time.perf_counter() - start))
            for n in args.parallel:
                ws, _ = workspace(Path(tmp) / f"p{n}", server, args.tenants, args.migrations)
                start = time.perf_counter()
                report = fleet.up(ws, "bench", parallel=n)
                assert report.ok, report.to_json()
                rows.append((f"fleet --parallel {n}", time.perf_counter() - start))
        finally:
            server.stop()
    print(
        f"{args.tenants} tenants x {args.migrations} migrations = {work} tenant-migrations "
        f"(cores: {os.cpu_count()})"
    )
    for label, seconds in rows:
        print(f"{label:<24}{seconds:8.1f} s  {work / seconds * 60:7.1f} tenant-migrations/min")


if __name__ == "__main__":
    main()
