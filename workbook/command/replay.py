"""The expected schema of a workspace: its migrations replayed (up) on a scratch embedded
server with no schema delays — Prisma's shadow database or Atlas's dev database, without
Docker or a second project.

Replays are cached under ``.workbook/replay/``: after each migration the scratch database
and its schema are saved, keyed by the cumulative hash of the migrations up to it (as in
``workbook.sum``), so a replay only runs the notebooks that are new or changed since.
Cells tagged ``data`` (row work that needs real data) are left out of a replay.

Each replayed migration also leaves ``<key>.cells.json``: the schema after every up cell that
changed it (cell index, first line, tags), so ``lint`` can say which cell made a change;
``down_cells`` does the same for a migration's down cells (``<key>.down.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workbook.command import commands, runner
from workbook.command.runner import RunResult
from workbook.core.catalog import Migration, find, load_catalog
from workbook.core.config import DEFAULT_DATABASE, LOCAL_PROJECT, Workspace
from workbook.core.integrity import content_hash
from workbook.core.ledger import WORKBOOK_TABLES
from workbook.core.schema import Schema
from workbook.errors import WorkbookError
from workbook.settings import LOCAL_ENDPOINT, LOCAL_KEY, REPLAY_CACHE, scoped_environ

CELL_KEY = "workbook_cell"  # a kept cell's index in the migration as written


def cache_dir(workspace: Workspace) -> Path:
    """Entries are named by cumulative checksum (the migrations' names and contents), so
    one folder can serve several workspaces or CI jobs: writes are atomic renames."""
    shared = REPLAY_CACHE.get()
    return Path(shared).expanduser() if shared else workspace.state / "replay"


def _write_atomically(path: Path, text: str) -> None:
    """Readers in other processes see the old file or the whole new one, never a part."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def cumulative_keys(catalog: list[Migration]) -> list[str]:
    running = hashlib.sha256()
    keys = []
    for m in catalog:
        running.update(f"{m.path.name}\0{content_hash(m.path)}\n".encode())
        keys.append(running.hexdigest()[:32])
    return keys


def cells_file(workspace: Workspace, catalog: list[Migration], migration: Migration) -> Path:
    """Where the replay of ``migration`` left the schema after each of its up cells."""
    keys = cumulative_keys([m for m in catalog if m.number <= migration.number])
    return cache_dir(workspace) / f"{keys[-1]}.cells.json"


def expected(workspace: Workspace, to: str | None = None, *, traced: bool = False) -> Schema:
    """The schema the migrations (up to ``to``) produce from nothing; ``traced``: with the
    last one's per-cell record (``cells_file``), replaying it again if an older cache lacks it."""
    catalog = load_catalog(workspace.migrations)
    if to is not None:
        last = find(catalog, to)
        catalog = [m for m in catalog if m.number <= last.number]
    if not catalog:
        return Schema(DEFAULT_DATABASE, [], LOCAL_PROJECT, DEFAULT_DATABASE)
    keys = cumulative_keys(catalog)
    cache = cache_dir(workspace)
    final = cache / f"{keys[-1]}.json"
    have_cells = not traced or (cache / f"{keys[-1]}.cells.json").is_file()
    if final.is_file() and have_cells:
        return _load_schema(final)
    done = max((i + 1 for i, k in enumerate(keys) if (cache / f"{k}.db").is_file()), default=0)
    if not have_cells:
        done = min(done, len(keys) - 1)
    cache.mkdir(parents=True, exist_ok=True)
    with _scratch(workspace, catalog) as (scratch, db):
        if done:
            _copy_db(cache / f"{keys[done - 1]}.db", db)
        _run(scratch, db, catalog, keys, done, cache)
    return _load_schema(final)


@contextmanager
def _scratch(workspace: Workspace, catalog: list[Migration]) -> Iterator[tuple[Workspace, Path]]:
    """A throwaway workspace holding the migrations without their ``data`` cells, and the
    path of its embedded server's database."""
    with tempfile.TemporaryDirectory(prefix="workbook-replay-", dir=workspace.state) as scratch:
        root = Path(scratch)
        (root / "migrations").mkdir()
        for m in catalog:
            _copy_without_data_cells(m.path, root / "migrations" / m.path.name)
        db = root / ".workbook" / "local" / "appwrite.db"
        db.parent.mkdir(parents=True)
        yield Workspace(root), db


def _serve(db: Path, *, from_cache: bool) -> tuple[Any, Any]:
    """The scratch server on ``db`` and an SDK client of it. A database copied from the
    cache was taken while its replay held the lock: that lock is no live run's."""
    from appwrite.client import Client
    from appwrite.services.tables_db import TablesDB

    from workbook.core.ledger import Ledger
    from workbook.local.server import start_local_server

    server = start_local_server(db, schema_delay=0.0, project_id=LOCAL_PROJECT)
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    client.set_key(server.api_key)
    if from_cache:
        Ledger(TablesDB(client), DEFAULT_DATABASE, "local").delete_lock()
    return server, client


def _run(
    scratch: Workspace,
    db: Path,
    catalog: list[Migration],
    keys: list[str],
    done: int,
    cache: Path,
) -> None:
    server, client = _serve(db, from_cache=bool(done))
    index = {m.version: i for i, m in enumerate(catalog)}

    def user_schema() -> Schema:
        return _user_schema(client)

    def save_at(i: int) -> Schema:
        schema = user_schema()
        _copy_db(db, cache / f"{keys[i]}.db")
        _save_schema(schema, cache / f"{keys[i]}.json")
        return schema

    trace = CellTrace(user_schema)

    def save(result: RunResult) -> None:
        if result.ok:
            i = index[result.migration.version]
            trace.finish(cache / f"{keys[i]}.cells.json", save_at(i))

    try:
        variables = {LOCAL_ENDPOINT.name: server.endpoint, LOCAL_KEY.name: server.api_key}
        with scoped_environ(variables):
            if done == len(catalog):  # the database is cached, its schema file is not
                save_at(len(catalog) - 1)
                return
            trace.last = user_schema() if done else Schema(DEFAULT_DATABASE, [])
            with runner.on_cell_executed(trace.after_cell):
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


def _user_schema(client: Any) -> Schema:
    """The scratch server's schema without Workbook's own tables."""
    from workbook.core.schema import snapshot

    schema = snapshot(client, DEFAULT_DATABASE)
    schema.tables = [t for t in schema.tables if t.get("$id") not in WORKBOOK_TABLES]
    return schema


def down_cells(workspace: Workspace, version: str) -> list[dict[str, Any]]:
    """The schema after each down cell of ``version`` that changed it: its down cells run on a
    copy of the cached replay after it (kept as ``<key>.down.json``), so ``down --dry-run``
    names the cell behind each finding as ``lint`` does for up cells. Empty when the cached
    database is gone (another process pruned it): the findings then name no cell."""
    expected(workspace, version)
    catalog = load_catalog(workspace.migrations)
    last = find(catalog, version)
    catalog = [m for m in catalog if m.number <= last.number]
    cache = cache_dir(workspace)
    key = cumulative_keys(catalog)[-1]
    record = cache / f"{key}.down.json"
    if record.is_file():
        return load_cells(record)
    if not (cache / f"{key}.db").is_file():
        return []
    with _scratch(workspace, catalog) as (scratch, db):
        _copy_db(cache / f"{key}.db", db)
        server, client = _serve(db, from_cache=True)
        try:
            trace = CellTrace(lambda: _user_schema(client), "down")
            trace.last = _user_schema(client)
            variables = {LOCAL_ENDPOINT.name: server.endpoint, LOCAL_KEY.name: server.api_key}
            with scoped_environ(variables), runner.on_cell_executed(trace.after_cell):
                result = commands.down(scratch, "local", migration=version, backup=False)
            if not result.ok:
                raise WorkbookError(
                    f"the down replay of migration {last.name} failed: "
                    f"{(result.error or result.status).splitlines()[0]}",
                    "run `workbook down --env local` on a copy to see the failing cell",
                )
            trace.finish(record, _user_schema(client))
        finally:
            server.stop()
    return load_cells(record)


class CellTrace:
    """The schema after each up cell that changed it, per replayed migration: nbclient calls
    ``after_cell`` in this process, where the scratch server answers."""

    def __init__(self, read: Callable[[], Schema], direction: str = "up") -> None:
        self.read = read
        self.direction = direction
        self.last: Schema | None = None
        self.cells: list[dict[str, Any]] = []

    def after_cell(self, cell: Any, cell_index: int, **_: Any) -> None:
        if cell.get("cell_type") != "code":
            return
        source = _text(cell.get("source", ""))
        tags = list((cell.get("metadata") or {}).get("tags", []))
        if self.direction not in tags and not source.lstrip().startswith(f"%%{self.direction}"):
            return
        try:
            schema = self.read()
        except WorkbookError:  # the record is a courtesy: `finish` still has the total
            return
        if self.last is not None and schema.fingerprint() == self.last.fingerprint():
            return
        original = (cell.get("metadata") or {}).get(CELL_KEY, cell_index)
        self.cells.append(
            {"cell": original, "line": first_line(source), "tags": tags, "tables": schema.tables}
        )
        self.last = schema

    def finish(self, path: Path, schema: Schema) -> None:
        """Write the migration's record; a change made outside its up cells is kept too."""
        if self.last is None or schema.fingerprint() != self.last.fingerprint():
            outside = f"outside the {self.direction} cells"
            self.cells.append({"cell": None, "line": outside, "tags": [], "tables": schema.tables})
        _write_atomically(path, json.dumps(self.cells))
        self.cells, self.last = [], schema


def load_cells(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")))


def first_line(source: str) -> str:
    """The line of a cell that says what it does (not its ``%%up`` marker or a comment)."""
    for line in source.splitlines():
        line = line.strip()
        if line and not line.startswith(("%%", "#")):
            return line[:80]
    return ""


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _copy_without_data_cells(source: Path, target: Path) -> None:
    """Cells tagged ``data`` do row work that needs real data: a replay leaves them out.
    Each kept cell remembers its index in the original, for the per-cell record."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    kept = []
    for i, cell in enumerate(nb.get("cells", [])):
        metadata = cell.setdefault("metadata", {})
        if "data" not in metadata.get("tags", []):
            metadata[CELL_KEY] = i
            kept.append(cell)
    nb["cells"] = kept
    target.write_text(json.dumps(nb), encoding="utf-8")


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, even while a server writes to it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
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
    _write_atomically(path, json.dumps(data))


def _load_schema(path: Path) -> Schema:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Schema(data["database_id"], data["tables"], data["project_id"], data["database_name"])
