"""``workbook backup`` and ``workbook backups``: a backup on demand, and what is on disk.

A standalone backup is the same export a run takes (``workbook.core.backup``): cursor-paged,
streamed to one JSON-lines file per table, a page in memory at a time, the manifest with
every file's sha256 and row count written last and atomically. So a backup interrupted half
way has no manifest: the listing calls it incomplete and ``restore`` refuses it.
Retention (``WORKBOOK_BACKUP_KEEP``) keeps the newest complete backups of an environment
and prunes older ones after each new backup; incomplete ones are kept for a person to look
at, never offered.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbook.command.commands import opened
from workbook.core.backup import (
    DECLINED_SUFFIX,
    MANIFEST,
    backups_dir,
    export_tables,
    iter_tables,
)
from workbook.core.config import Workspace
from workbook.core.ledger import LOCK_TABLE
from workbook.errors import ConfigError, WorkbookError
from workbook.settings import BACKUP_KEEP


@dataclass(frozen=True)
class BackupInfo:
    """One folder under ``history/<env>/backups/`` as ``workbook backups`` lists it."""

    path: Path
    complete: bool
    tables: tuple[str, ...]
    rows: int
    size: int
    run: str
    taken_at: str
    empty: bool = False  # a sequence that touched no table: nothing to restore, nothing lost


def backup(
    workspace: Workspace,
    env: str | None,
    only: list[str] | None = None,
    *,
    label: str = "manual",
    on_progress: Callable[[str, int], None] | None = None,
) -> tuple[Path, dict[str, int], list[Path]]:
    """Back up the environment's tables (``only`` these) now; returns the folder, rows per
    table and the backups retention pruned."""
    keep = retention()
    environment = workspace.environment(env)
    with opened(workspace, env, catalog=[], adopted=False) as o:
        if only:
            known = {t["$id"] for t in iter_tables(o.target.client, environment.database)}
            unknown = sorted(set(only) - known - {LOCK_TABLE})
            if unknown:
                raise WorkbookError(
                    f"database '{environment.database}' has no table {', '.join(unknown)}",
                    f"it has: {', '.join(sorted(known - {LOCK_TABLE})) or 'no tables'}",
                )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        folder = backups_dir(workspace, environment.name) / f"{stamp}-{label}"
        if folder.exists():
            raise WorkbookError(f"{folder} exists already", "wait a second and run again")
        counts = export_tables(
            o.target, folder, only, on_progress=on_progress, run=f"{stamp}-{label}"
        )
    return folder, counts, prune(workspace, environment.name, keep)


def retention() -> int | None:
    """``WORKBOOK_BACKUP_KEEP``: how many complete backups per environment to keep."""
    raw = BACKUP_KEEP.get()
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(
            f"${BACKUP_KEEP.name}={raw!r} is not a whole number of backups to keep",
            f"set it like {BACKUP_KEEP.name}=10, or unset it to keep every backup",
        )
    return int(raw)


def list_backups(workspace: Workspace, env: str | None) -> list[BackupInfo]:
    """Every backup folder of the environment, newest first; reads files only."""
    root = backups_dir(workspace, workspace.environment(env).name)
    if not root.is_dir():
        return []
    found = [describe(p) for p in root.iterdir() if p.is_dir()]
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def describe(folder: Path) -> BackupInfo:
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    modified = datetime.fromtimestamp(folder.stat().st_mtime, UTC).isoformat(timespec="seconds")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        tables = tuple(t["$id"] for t in manifest["tables"])
        rows = sum(manifest["rows"].values())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        empty = not any(folder.iterdir())
        run = _run_of(folder.name)
        return BackupInfo(folder, False, (), 0, size, run, modified, empty=empty)
    taken = manifest.get("taken") or {}
    runs = sorted({str(t.get("run")) for t in taken.values() if isinstance(t, dict)} - {"None"})
    times = sorted(str(t.get("at")) for t in taken.values() if isinstance(t, dict))
    run = runs[0] if runs else _run_of(folder.name)
    return BackupInfo(folder, True, tables, rows, size, run, times[0] if times else modified)


def _run_of(name: str) -> str:
    return name.split("-before-")[0]


def prune(workspace: Workspace, environment: str, keep: int | None) -> list[Path]:
    """Delete complete backups beyond the newest ``keep`` (none when ``keep`` is None)."""
    if keep is None:
        return []
    complete = [b for b in list_backups(workspace, environment) if b.complete]
    gone = [b.path for b in complete[keep:]]
    for path in gone:
        shutil.rmtree(path)
        (path.parent / f"{_run_of(path.name)}{DECLINED_SUFFIX}").unlink(missing_ok=True)
    return gone
