"""Putting a backup back: the backup is checked whole before the target sees one write.

A restore runs when something already went wrong, so it must not make things worse: a
backup folder whose export never finished (no ``schema.json``), a manifest missing a key or
of the wrong shape, a table file truncated or edited since the export (its sha256 or row
count differs) or holding a line that is not a row, is refused with one line naming the
problem, before Workbook even connects. Only then are tables recreated and rows upserted.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException

from workbook.core.backup import FORMAT, MANIFEST, MANIFEST_KEYS, table_file
from workbook.core.client import Target
from workbook.core.columns import STRING_FORMATS
from workbook.core.ids import is_appwrite_id
from workbook.core.ledger import LEDGER_TABLE, LOCK_TABLE
from workbook.core.paging import PAGE
from workbook.errors import WorkbookError

NOT_RESTORED = (LEDGER_TABLE, LOCK_TABLE)  # Workbook's own: the ledger is no data to roll back
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HINT = "name a complete folder under history/<env>/backups/ (each run's export is one)"
_DAMAGED = "restore from an intact copy of this folder, or from another backup"


@dataclass(frozen=True)
class BackupTable:
    """One table of a backup: its definition as exported, and its verified rows file."""

    id: str
    definition: dict[str, Any]
    path: Path
    rows: int
    sha256: str


@dataclass(frozen=True)
class Backup:
    """A backup folder whose manifest and chosen files were checked end to end."""

    folder: Path
    database: str
    tables: tuple[BackupTable, ...]


def open_backup(folder: Path, only: list[str] | None = None) -> Backup:
    """The tables to restore (``only`` these, else all), each file verified; raises a
    :class:`WorkbookError` on the first problem, having written nothing anywhere."""
    manifest = read_manifest(folder)
    tables = [t for t in _tables(folder, manifest) if t.id not in NOT_RESTORED]
    chosen = _select(tables, only)
    for table in chosen:
        verify(table)
    return Backup(folder, manifest["database"], tuple(chosen))


def read_manifest(folder: Path) -> dict[str, Any]:
    """``schema.json``, present, parseable and of the shape :func:`export_database` writes."""
    if not folder.is_dir():
        raise WorkbookError(f"backup {folder} is not a folder", _HINT)
    path = folder / MANIFEST
    if not path.is_file():
        raise WorkbookError(
            f"{folder} has no {MANIFEST}: not a backup, or an export that did not finish",
            _HINT,
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise WorkbookError(
            f"{path} is not readable JSON ({type(exc).__name__})", _DAMAGED
        ) from exc
    problem = manifest_problem(manifest)
    if problem:
        raise WorkbookError(f"{path} is not a valid backup manifest: {problem}", _DAMAGED)
    return manifest


def manifest_problem(manifest: object) -> str | None:
    """What is wrong with a parsed manifest, or None. Table ids are checked as Appwrite ids
    because they name files: a tampered ``../x`` must not read outside the folder."""
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        return f"it has no {', '.join(missing)} (made by an older Workbook, or edited)"
    if manifest["format"] != FORMAT:
        return f"format {manifest['format']!r} is not {FORMAT}"
    if not is_appwrite_id(manifest["database"]):
        return "database is not an Appwrite id"
    if not isinstance(manifest["tables"], list):
        return "tables is not a list"
    for key in ("rows", "files"):
        if not isinstance(manifest[key], dict):
            return f"{key} is not an object"
    return _tables_problem(manifest)


def _tables_problem(manifest: dict[str, Any]) -> str | None:
    seen: set[str] = set()
    for number, table in enumerate(manifest["tables"], 1):
        problem = _definition_problem(table)
        if problem:
            return f"table {number}: {problem}"
        table_id = table["$id"]
        if table_id in seen:
            return f"table {table_id} appears twice"
        seen.add(table_id)
        entry = manifest["files"].get(table_id)
        if not isinstance(entry, dict) or not _SHA256.match(str(entry.get("sha256"))):
            return f"files has no sha256 for table {table_id}"
        rows = entry.get("rows")
        if not _is_count(rows) or manifest["rows"].get(table_id) != rows:
            return f"the row count of table {table_id} is missing or inconsistent"
    return None


def _definition_problem(table: object) -> str | None:
    if not isinstance(table, dict):
        return "not an object"
    if not is_appwrite_id(table.get("$id")):
        return "$id is not an Appwrite id"
    if not isinstance(table.get("name"), str):
        return f"{table['$id']} has no name"
    for key, needs in (("columns", ("key", "type")), ("indexes", ("key", "type"))):
        items = table.get(key, [])
        if not isinstance(items, list) or not all(
            isinstance(item, dict) and all(isinstance(item.get(n), str) for n in needs)
            for item in items
        ):
            return f"{table['$id']}: {key} is not a list of definitions"
    return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tables(folder: Path, manifest: dict[str, Any]) -> list[BackupTable]:
    return [
        BackupTable(
            id=t["$id"],
            definition=t,
            path=folder / table_file(t["$id"]),
            rows=manifest["files"][t["$id"]]["rows"],
            sha256=manifest["files"][t["$id"]]["sha256"],
        )
        for t in manifest["tables"]
    ]


def _select(tables: list[BackupTable], only: list[str] | None) -> list[BackupTable]:
    known = {t.id for t in tables}
    unknown = sorted(set(only or []) - known)
    if unknown:
        own = [name for name in unknown if name in NOT_RESTORED]
        raise WorkbookError(
            f"the backup has no table {', '.join(unknown)}"
            + (" (Workbook's own tables are never restored)" if own else ""),
            f"it holds: {', '.join(sorted(known)) or 'no tables'}",
        )
    return [t for t in tables if not only or t.id in only]


def verify(table: BackupTable) -> None:
    """Read a table's file end to end: checksum, row count, and every line a row."""
    name = f"{table.path.parent.name}/{table.path.name}"
    digest = hashlib.sha256()
    count = 0
    bad_line = None
    try:
        with table.path.open("rb") as lines:
            for count, line in enumerate(lines, 1):
                digest.update(line)
                if bad_line is None and not _is_row(line):
                    bad_line = count
    except FileNotFoundError:
        raise WorkbookError(f"backup file {name} is missing", _DAMAGED) from None
    except OSError as exc:
        raise WorkbookError(f"backup file {name} cannot be read: {exc.strerror}", _DAMAGED) from exc
    if digest.hexdigest() != table.sha256:
        raise WorkbookError(
            f"backup file {name} does not match its sha256 in {MANIFEST}: "
            "truncated or changed since the export",
            _DAMAGED,
        )
    if count != table.rows:
        raise WorkbookError(
            f"backup file {name} holds {count} rows, {MANIFEST} says {table.rows}", _DAMAGED
        )
    if bad_line is not None:
        raise WorkbookError(
            f"backup file {name} line {bad_line} is not a JSON row with an $id", _DAMAGED
        )


def _is_row(line: bytes) -> bool:
    try:
        row = json.loads(line)
    except ValueError:
        return False
    return isinstance(row, dict) and isinstance(row.get("$id"), str) and bool(row["$id"])


def check_database(backup: Backup, database: str, environment: str) -> None:
    """A backup goes back where it came from: another database would get foreign tables."""
    if backup.database != database:
        raise WorkbookError(
            f"the backup is of database '{backup.database}', but '{environment}' uses '{database}'",
            "restore into the environment it came from",
        )


_INLINE_KEYS = (
    "key",
    "type",
    "size",
    "required",
    "default",
    "array",
    "min",
    "max",
    "elements",
    "encrypt",
)


def inline_column(column: dict[str, Any]) -> dict[str, Any]:
    """A stored column as a table-create item (``string`` + format → the shorthand type)."""
    item = {k: column[k] for k in _INLINE_KEYS if column.get(k) is not None}
    if column.get("type") == "string" and column.get("format") in STRING_FORMATS:
        item["type"] = column["format"]
        item.pop("size", None)
    if item.get("required"):
        item.pop("default", None)
    return item


def inline_index(index: dict[str, Any]) -> dict[str, Any]:
    item = {
        "key": index["key"],
        "type": index["type"],
        "attributes": index.get("columns") or index.get("attributes") or [],
    }
    if any(index.get("orders") or []):
        item["orders"] = index["orders"]
    return item


def restore_table(target: Target, table: BackupTable) -> int:
    """Recreate a table that is gone (columns and indexes as backed up), then its rows."""
    database = target.environment.database
    definition = table.definition
    try:
        target.tables.get_table(database, table.id)
    except AppwriteException as exc:
        if exc.code != 404:
            raise
        target.tables.create_table(
            database,
            table.id,
            definition["name"],
            permissions=definition.get("$permissions"),
            row_security=definition.get("rowSecurity", False),
            columns=[inline_column(c) for c in definition.get("columns", [])],
            indexes=[inline_index(i) for i in definition.get("indexes", [])],
        )
    return restore_rows(target, table)


def restore_rows(target: Target, table: BackupTable) -> int:
    """Upsert a table's exported rows back (timestamps kept: API keys may set them)."""
    database = target.environment.database
    drop = {"$sequence", "$tableId", "$databaseId"}
    batch: list[dict[str, Any]] = []
    total = 0
    with table.path.open(encoding="utf-8") as rows:
        for line in rows:
            batch.append({k: v for k, v in json.loads(line).items() if k not in drop})
            if len(batch) == PAGE:
                target.tables.upsert_rows(database, table.id, batch)
                total, batch = total + len(batch), []
    if batch:
        target.tables.upsert_rows(database, table.id, batch)
        total += len(batch)
    return total
