"""The expected schema of a workspace: its migrations replayed (up) on a scratch embedded
server with no schema delays — Prisma's shadow database or Atlas's dev database, without
Docker or a second project.

Replays are cached under ``.workbook/replay/``: after each migration the scratch database
and its schema are saved, keyed by the cumulative hash of the migrations up to it (as in
``workbook.sum``), so a replay only runs the notebooks that are new or changed since.
Cells tagged ``data`` (row work that needs real data) are left out of a replay.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

from workbook.command import commands
from workbook.command.runner import RunResult
from workbook.core.catalog import Migration, find, load_catalog
from workbook.core.config import DEFAULT_DATABASE, LOCAL_PROJECT, Workspace
from workbook.core.integrity import content_hash
from workbook.core.ledger import WORKBOOK_TABLES
from workbook.core.schema import Schema
from workbook.errors import WorkbookError
from workbook.settings import LOCAL_ENDPOINT, LOCAL_KEY, scoped_environ


def cache_dir(workspace: Workspace) -> Path:
    return workspace.state / "replay"


def cumulative_keys(catalog: list[Migration]) -> list[str]:
    running = hashlib.sha256()
    keys = []
    for m in catalog:
        running.update(f"{m.path.name}\0{content_hash(m.path)}\n".encode())
        keys.append(running.hexdigest()[:32])
    return keys


def expected(workspace: Workspace, to: str | None = None) -> Schema:
    """The schema the migrations (up to ``to``) produce from nothing."""
    catalog = load_catalog(workspace.migrations)
    if to is not None:
        last = find(catalog, to)
        catalog = [m for m in catalog if m.number <= last.number]
    if not catalog:
        return Schema(DEFAULT_DATABASE, [], LOCAL_PROJECT, DEFAULT_DATABASE)
    keys = cumulative_keys(catalog)
    cache = cache_dir(workspace)
    final = cache / f"{keys[-1]}.json"
    if final.is_file():
        return _load_schema(final)
    done = max((i + 1 for i, k in enumerate(keys) if (cache / f"{k}.db").is_file()), default=0)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="workbook-replay-", dir=workspace.state) as scratch:
        root = Path(scratch)
        (root / "migrations").mkdir()
        for m in catalog:
            _copy_without_data_cells(m.path, root / "migrations" / m.path.name)
        db = root / ".workbook" / "local" / "appwrite.db"
        db.parent.mkdir(parents=True)
        if done:
            _copy_db(cache / f"{keys[done - 1]}.db", db)
        _run(Workspace(root), db, catalog, keys, done, cache)
    return _load_schema(final)


def _run(
    scratch: Workspace,
    db: Path,
    catalog: list[Migration],
    keys: list[str],
    done: int,
    cache: Path,
) -> None:
    from appwrite.client import Client

    from workbook.core.schema import snapshot
    from workbook.local.server import start_local_server

    server = start_local_server(db, schema_delay=0.0, project_id=LOCAL_PROJECT)
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    client.set_key(server.api_key)
    index = {m.version: i for i, m in enumerate(catalog)}
    if done:  # the cached copy was taken while the replay held its lock: not a live run
        from appwrite.services.tables_db import TablesDB

        from workbook.core.ledger import Ledger

        Ledger(TablesDB(client), DEFAULT_DATABASE, "local").delete_lock()

    def save_at(i: int) -> None:
        schema = snapshot(client, DEFAULT_DATABASE)
        schema.tables = [t for t in schema.tables if t.get("$id") not in WORKBOOK_TABLES]
        _copy_db(db, cache / f"{keys[i]}.db")
        _save_schema(schema, cache / f"{keys[i]}.json")

    def save(result: RunResult) -> None:
        if result.ok:
            save_at(index[result.migration.version])

    try:
        variables = {LOCAL_ENDPOINT.name: server.endpoint, LOCAL_KEY.name: server.api_key}
        with scoped_environ(variables):
            if done == len(catalog):  # the database is cached, its schema file is not
                save_at(len(catalog) - 1)
                return
            results = commands.up(scratch, ["local"], backup=False, on_result=save)
    finally:
        server.stop()
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        kept = cache / "failed" / failed.archive.name
        kept.parent.mkdir(parents=True, exist_ok=True)
        if failed.archive.is_file():
            shutil.copy(failed.archive, kept)
        raise WorkbookError(
            f"the replay stopped at migration {failed.migration.name}: "
            f"{(failed.error or failed.status).splitlines()[0]}",
            f"its executed notebook shows where: {kept}",
        )


def _copy_without_data_cells(source: Path, target: Path) -> None:
    """Cells tagged ``data`` do row work that needs real data: a replay leaves them out."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    nb["cells"] = [
        c for c in nb.get("cells", []) if "data" not in (c.get("metadata") or {}).get("tags", [])
    ]
    target.write_text(json.dumps(nb), encoding="utf-8")


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, even while a server writes to it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    partial.replace(target)


def _save_schema(schema: Schema, path: Path) -> None:
    data = {
        "database_id": schema.database_id,
        "project_id": schema.project_id,
        "database_name": schema.database_name,
        "tables": schema.tables,
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def _load_schema(path: Path) -> Schema:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Schema(data["database_id"], data["tables"], data["project_id"], data["database_name"])
