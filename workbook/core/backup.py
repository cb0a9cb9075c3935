"""Export of a database's tables (schema and rows), streamed, with a manifest that proves it.

Before a migration first deletes or rewrites a table's data, the table is exported (see
``workbook/runtime/backups.py``), so nothing a migration deletes is lost:
``history/<env>/backups/<lock id>-before-<version>/`` holds one JSON-lines file per table
and ``schema.json``, the manifest: the database, each table's definition, and each file's
row count and sha256. The manifest is written last and atomically, so an export that was
interrupted has none and cannot be mistaken for a backup; the checksums let ``restore``
refuse a file that was truncated or edited since. Rows are paged with a cursor and written
as they come, so memory stays flat whatever the table size. Relationship values are kept as
the related rows' ids, spatial values as coordinates. Before anything is written the free
disk is checked against an estimate of the backup's size (:func:`check_free_space`), so a
full disk stops a run before its first migration rather than half way through a backup.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.query import Query

from workbook.core.client import Target
from workbook.core.config import Workspace
from workbook.core.ledger import LOCK_TABLE
from workbook.core.paging import PAGE, iter_items, raw_get
from workbook.errors import ConfigError, WorkbookError
from workbook.settings import BACKUP_RESERVE

MANIFEST = "schema.json"
FORMAT = 2  # 2: per-file sha256 and row counts under "files"
MANIFEST_KEYS = ("format", "database", "tables", "rows", "files")


DECLINED_SUFFIX = ".no-backup"
DEFAULT_RESERVE_MIB = 100
MIB = 1024 * 1024
SAMPLE = 25  # rows read per table to estimate the size of its backup


def backups_dir(workspace: Workspace, environment: str) -> Path:
    """``history/<env>/backups``: every backup of an environment, one folder each."""
    return workspace.history_dir(environment) / "backups"


def sequence_folder(root: Path, lock_id: str, version: str) -> Path:
    """A sequence's backup folder, ``<lock id>-before-<version>``: the one an earlier
    migration of the same sequence started, else a new one named after this migration."""
    found = sorted(root.glob(f"{lock_id}-before-*")) if root.is_dir() else []
    return found[0] if found else root / f"{lock_id}-before-{version}"


def decline(root: Path, lock_id: str) -> Path:
    """``--no-backup``: the runner leaves this mark so its kernels know that backups were
    declined for this sequence on purpose (and reviewers see that they were)."""
    root.mkdir(parents=True, exist_ok=True)
    mark = root / f"{lock_id}{DECLINED_SUFFIX}"
    mark.write_text("backups declined with --no-backup\n", encoding="utf-8")
    return mark


def declined(root: Path, lock_id: str) -> bool:
    return (root / f"{lock_id}{DECLINED_SUFFIX}").is_file()


def record_cloud_archive(root: Path, lock_id: str, archive_id: str, database: str) -> Path:
    """``backup = "cloud"``: the archive Appwrite Cloud took before the sequence, named
    where its local backups would be (``<lock id>-cloud-<archive id>.json``), so the
    sequence's kernels, reviewers and the terminal find it."""
    root.mkdir(parents=True, exist_ok=True)
    mark = root / f"{lock_id}-cloud-{archive_id}.json"
    facts = {"archive": archive_id, "database": database, "run": lock_id, "at": _now()}
    _write_atomically(mark, json.dumps(facts, indent=1) + "\n")
    return mark


def cloud_archive_of(root: Path, lock_id: str) -> Path | None:
    """The cloud archive a sequence took, if it took one."""
    found = sorted(root.glob(f"{lock_id}-cloud-*.json")) if root.is_dir() else []
    return found[0] if found else None


def table_file(table_id: str) -> str:
    """The file holding a table's rows, one JSON object per line."""
    return f"{table_id}.jsonl"


def iter_tables(client: Client, database_id: str) -> Iterator[dict[str, Any]]:
    return iter_items(client, f"/tablesdb/{database_id}/tables", "tables")


def links_of(table: dict[str, Any]) -> list[str]:
    """The keys of a table's relationship columns (either side)."""
    return [c["key"] for c in table.get("columns", []) if c.get("type") == "relationship"]


def iter_rows(
    client: Client, database_id: str, table_id: str, links: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every row in insertion order. Appwrite answers relationship values only when a select
    names them; ``links`` are selected as the related rows' ids and kept as ids (one, or a
    list), which is all a restore needs to link the rows again."""
    queries = [Query.order_asc("$sequence")]
    if links:
        queries.append(Query.select(["*", *(f"{key}.$id" for key in links)]))
    rows = iter_items(client, f"/tablesdb/{database_id}/tables/{table_id}/rows", "rows", queries)
    if not links:
        return rows
    return ({**row, **{k: _ids(row.get(k)) for k in links}} for row in rows)


def _ids(value: Any) -> Any:
    if isinstance(value, list):
        return [item["$id"] if isinstance(item, dict) else item for item in value]
    return value["$id"] if isinstance(value, dict) else value


def export_database(target: Target, dest: Path, **facts: Any) -> dict[str, int]:
    """Write every table's schema and rows under ``dest``; returns rows per table."""
    return export_tables(target, dest, None, **facts)


def export_tables(
    target: Target,
    dest: Path,
    only: list[str] | None,
    *,
    incremental: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
    **facts: Any,
) -> dict[str, int]:
    """Back up ``only`` these tables (None: all but Workbook's lock) under ``dest``.

    The manifest is written last and atomically. ``incremental`` adds to the backup already
    in ``dest`` (a table it holds is not taken twice) and rewrites the manifest after each
    table, so every manifest a reader can see describes whole files: this is how a sequence
    backs each table up once, just before the first migration that touches it. ``facts``
    (the run, the migration it was taken before) are recorded per table.
    """
    database = target.environment.database
    manifest = read_manifest_if_any(dest) if incremental else None
    manifest = manifest or {
        "format": FORMAT,
        "database": database,
        "tables": [],
        "rows": {},
        "files": {},
        "taken": {},
    }
    have = {t["$id"] for t in manifest["tables"]}
    wanted = set(only) if only is not None else None
    tables = [
        t
        for t in iter_tables(target.client, database)
        if t["$id"] != LOCK_TABLE
        and t["$id"] not in have
        and (wanted is None or t["$id"] in wanted)
    ]
    check_free_space(target, dest, [t["$id"] for t in tables])
    dest.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in tables:
        table_id = table["$id"]
        try:
            entry = _export_rows(
                target.client, database, table_id, dest, on_progress, links_of(table)
            )
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
            raise WorkbookError(
                f"no space left on the disk for the backup of {table_id} in {dest}",
                "free disk space and run again: nothing was written to the target after "
                "the backup started, and the backup is incomplete (never offered)",
            ) from exc
        manifest["tables"].append(table)
        manifest["files"][table_id] = entry
        manifest["rows"][table_id] = counts[table_id] = entry["rows"]
        manifest.setdefault("taken", {})[table_id] = {"at": _now(), **facts}
        if incremental:
            _write_manifest(dest, manifest)
    if not incremental or not (dest / MANIFEST).exists():
        _write_manifest(dest, manifest)
    return counts


def reserve_bytes() -> int:
    """``WORKBOOK_BACKUP_RESERVE``: MiB a backup must leave free on its disk."""
    raw = BACKUP_RESERVE.get()
    if raw is None:
        return DEFAULT_RESERVE_MIB * MIB
    if not raw.isdigit():
        raise ConfigError(
            f"${BACKUP_RESERVE.name}={raw!r} is not a whole number of MiB",
            f"set it like {BACKUP_RESERVE.name}=500, or unset it for {DEFAULT_RESERVE_MIB} MiB",
        )
    return int(raw) * MIB


def estimate_bytes(client: Client, database: str, table_ids: list[str]) -> int:
    """About how many bytes a backup of these tables takes: each table's row count times
    the mean size of a line of its first rows (one small request per table)."""
    total = 0
    for table_id in table_ids:
        answer = raw_get(
            client,
            f"/tablesdb/{database}/tables/{table_id}/rows",
            {"queries": [Query.limit(SAMPLE)], "total": True},
        )
        sample = answer.get("rows") or []
        if not sample:
            continue
        size = sum(len(json.dumps(r, ensure_ascii=False).encode("utf-8")) + 1 for r in sample)
        total += size * max(int(answer.get("total") or 0), len(sample)) // len(sample)
    return total


def check_free_space(target: Target, dest: Path, table_ids: list[str] | None) -> int:
    """Stop before a backup that would not fit: the estimated size of these tables (None:
    every table but Workbook's lock) against the free space of ``dest``'s disk minus the
    reserve. Called before anything is written, so a full disk never interrupts a run
    half way. Returns the estimate."""
    database = target.environment.database
    if table_ids is None:
        table_ids = [t["$id"] for t in iter_tables(target.client, database)]
        table_ids = [t for t in table_ids if t != LOCK_TABLE]
    need = estimate_bytes(target.client, database, table_ids)
    reserve = reserve_bytes()
    existing = next(p for p in (dest, *dest.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if need + reserve > free:
        raise WorkbookError(
            f"no free disk for the backup: it needs about {_mib(need)} MiB in {dest.parent}, "
            f"{_mib(free)} MiB are free and {_mib(reserve)} MiB are kept in reserve "
            f"(${BACKUP_RESERVE.name})",
            "free disk space (or lower the reserve) and run again: nothing was written "
            "(a migration run may also go ahead without a backup: --no-backup)",
        )
    return need


def _mib(n: int) -> str:
    return f"{n / MIB:,.1f}"


def read_manifest_if_any(dest: Path) -> dict[str, Any] | None:
    """The manifest of a backup folder as written, or None when there is none yet."""
    try:
        return json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _write_manifest(dest: Path, manifest: dict[str, Any]) -> None:
    _write_atomically(dest / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _export_rows(
    client: Client,
    database: str,
    table_id: str,
    dest: Path,
    on_progress: Callable[[str, int], None] | None = None,
    links: list[str] | None = None,
) -> dict[str, Any]:
    """One table's rows to its file, durably; returns the file's row count and sha256.
    A page at a time is in memory, however large the table."""
    digest = hashlib.sha256()
    count = 0
    with (dest / table_file(table_id)).open("wb") as out:
        for row in iter_rows(client, database, table_id, links):
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            digest.update(line)
            count += 1
            if on_progress is not None and count % PAGE == 0:
                on_progress(table_id, count)
        out.flush()
        os.fsync(out.fileno())
    if on_progress is not None:
        on_progress(table_id, count)
    return {"rows": count, "sha256": digest.hexdigest()}


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the whole file or none: written beside, synced, then renamed over."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
