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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.command.backup_ids import BackedUpIds, pages
from workbook.core.backup import FORMAT, MANIFEST, MANIFEST_KEYS, links_of, table_file
from workbook.core.client import Target
from workbook.core.columns import STRING_FORMATS, ColumnSpec, column_kind
from workbook.core.ids import is_appwrite_id
from workbook.core.ledger import LEDGER_TABLE, LOCK_TABLE
from workbook.core.paging import PAGE, iter_items, raw_get
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


def rows_to_restore(folder: Path, only: list[str] | None = None) -> int | None:
    """How many rows a restore of ``folder`` writes back, from its manifest (for a progress
    bar with an end); None when the manifest cannot say (``restore`` then says why)."""
    try:
        rows = read_manifest(folder)["rows"]
    except (WorkbookError, KeyError, TypeError):
        return None
    chosen = [n for t, n in rows.items() if t not in NOT_RESTORED and (not only or t in only)]
    return sum(chosen) if all(isinstance(n, int) for n in chosen) else None


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


@dataclass
class TableRestore:
    """What a restore did to one table, in the words the CLI prints."""

    id: str
    actions: list[str]
    upserted: int = 0
    deleted: int = 0
    checked: int = 0

    def lines(self) -> list[str]:
        head = f"restored {self.upserted} row(s) of {self.id}"
        if self.deleted:
            head += f", deleted {self.deleted} row(s) not in the backup"
        return [head, *(f"  {a}" for a in self.actions)]


MODES = ("merge", "replace")
LINK = "relationship"
SPATIAL = ("point", "line", "polygon")
_DROP = ("$sequence", "$tableId", "$databaseId")
_GONE = ("table_not_found", "database_not_found", "column_not_found", "index_not_found")
_WAIT_SECONDS = 120.0
CHECK_PAGE = 1000  # reading back is only for comparing: fewer, larger pages


def restore_table(
    target: Target,
    table: BackupTable,
    *,
    database: str | None = None,
    mode: str = "merge",
    on_progress: Callable[[str, int], None] | None = None,
) -> TableRestore:
    """Undo what happened to one table since the backup, exactly.

    A missing table is recreated whole; a table that is there gets back every backed-up
    column it lost, and a column recreated with another type is put back to its backed-up
    type (its backed-up values come back with the rows; rows created since keep theirs
    where the value converts, else null). Missing indexes follow. Then the rows go back in
    bulk with their ids, timestamps and permissions (upsert); ``replace`` also deletes the
    rows the backup does not have. Finally the table is read back and compared with the
    backup (count, and a sha256 over the backed-up fields of every backed-up row).
    ``on_progress(table, rows written so far)`` follows the rows, as a backup's does.
    """
    if mode not in MODES:
        raise WorkbookError(f"--mode {mode!r} is not one of {', '.join(MODES)}", "merge or replace")
    database = database or target.environment.database
    done = TableRestore(table.id, [])
    with BackedUpIds(table.path) as ids:  # on disk: memory stays flat whatever the size
        live = _get(target, f"/tablesdb/{database}/tables/{table.id}")
        if live is None:
            _create_table(target, database, table.definition)
            done.actions.append("recreated the table, its columns and indexes")
            retyped: dict[str, dict[str, Any]] = {}
        else:
            retyped = _restore_columns(target, database, table, live, ids, done)
            _restore_indexes(target, database, table, done)
        single = _has_links(live)
        done.upserted = _upsert_rows(
            target, database, table, fresh=live is None, single=single, on_progress=on_progress
        )
        if retyped and mode == "merge":
            _put_converted(target, database, table.id, ids, retyped, single=single)
        if mode == "replace":
            done.deleted = _delete_others(target, database, table.id, ids)
        done.checked = check_rows(target, database, table, ids, exact=mode == "replace")
    done.actions.append(f"checked: {done.checked} row(s) match the backup (count and sha256)")
    return done


def restore_rows(target: Target, table: BackupTable) -> int:
    """Upsert a table's exported rows back (kept for callers that want the rows only)."""
    return _upsert_rows(target, target.environment.database, table)


def _iter_backup_rows(table: BackupTable) -> Any:
    """The backed-up rows as they are written back: relationship values aside (they are
    linked once every table of the restore is back: ``restore_links.py``)."""
    drop = {*_DROP, *links_of(table.definition)}
    with table.path.open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            yield {k: v for k, v in row.items() if k not in drop}


def _has_links(live: dict[str, Any] | None) -> bool:
    """Appwrite refuses bulk row writes on a table with relationship columns."""
    return bool(live and links_of(live))


def _write_rows(
    target: Target, database: str, table_id: str, rows: list[dict[str, Any]], how: str
) -> None:
    """A page of rows: ``create`` or ``upsert`` in bulk, or ``single`` (one upsert each)
    where Appwrite refuses bulk writes (a table with relationship columns)."""
    if how == "create":
        target.tables.create_rows(database, table_id, rows)
    elif how == "upsert":
        target.tables.upsert_rows(database, table_id, rows)
    else:
        for row in rows:
            data = {k: v for k, v in row.items() if k not in ("$id", "$permissions")}
            target.tables.upsert_row(
                database, table_id, row["$id"], data, permissions=row.get("$permissions")
            )


def _upsert_rows(
    target: Target,
    database: str,
    table: BackupTable,
    *,
    fresh: bool = False,
    single: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
) -> int:
    """The backed-up rows back, a page per request (ids, timestamps, permissions kept);
    into a table just recreated (``fresh``) they are created, which skips the lookups;
    ``single``: a row per request (Appwrite refuses bulk writes there)."""
    how = "single" if single else "create" if fresh else "upsert"

    def write(database: str, table_id: str, rows: list[dict[str, Any]]) -> None:
        _write_rows(target, database, table_id, rows, how)

    batch: list[dict[str, Any]] = []
    total = 0
    for row in _iter_backup_rows(table):
        batch.append(row)
        if len(batch) == PAGE:
            write(database, table.id, batch)
            total, batch = total + len(batch), []
            if on_progress is not None:
                on_progress(table.id, total)
    if batch:
        write(database, table.id, batch)
        total += len(batch)
    if on_progress is not None:
        on_progress(table.id, total)
    return total


def _get(target: Target, path: str) -> dict[str, Any] | None:
    try:
        return raw_get(target.client, path)
    except AppwriteException as exc:
        if exc.code == 404:
            return None
        raise


def _create_table(target: Target, database: str, definition: dict[str, Any]) -> None:
    target.tables.create_table(
        database,
        definition["$id"],
        definition["name"],
        permissions=definition.get("$permissions"),
        row_security=definition.get("rowSecurity", False),
        columns=[inline_column(c) for c in definition.get("columns", []) if c["type"] != LINK],
        indexes=[inline_index(i) for i in definition.get("indexes", [])],
    )


def _restore_columns(
    target: Target,
    database: str,
    table: BackupTable,
    live: dict[str, Any],
    ids: BackedUpIds,
    done: TableRestore,
) -> dict[str, dict[str, Any]]:
    """Recreate lost columns and put retyped ones back; returns the retyped columns (key →
    backed-up definition). Before the first retyped column is dropped, the rows the backup
    does not have are set aside whole in ``ids`` (on disk), so their values can come back
    converted (:func:`_put_converted`)."""
    have = {c["key"]: c for c in live.get("columns", [])}
    retyped: dict[str, dict[str, Any]] = {}
    for column in table.definition.get("columns", []):
        key = column["key"]
        now = have.get(key)
        if column["type"] == LINK or (now is not None and _same_shape(now, column)):
            continue  # relationships are linked last (restore_links.py)
        if now is not None:
            if not retyped:
                ids.keep(_rows_outside(target, database, table.id, ids))
            retyped[key] = column
            kind = column_kind(column)
            lost = sum(
                1
                for row in ids.kept()
                if row.get(key) is not None and _convert(kind, row.get(key), column) is None
            )
            for index in live.get("indexes", []):
                if key in (index.get("columns") or index.get("attributes") or []):
                    _delete_index(target, database, table.id, index["key"])
            _delete_column(target, database, table.id, key)
            note = f"converted column {key} back from {column_kind(now)} to {kind}"
            if lost:
                note += f" ({lost} value(s) of rows created since did not convert: null)"
            done.actions.append(note)
        else:
            done.actions.append(f"recreated column {key} ({column_kind(column)})")
        _create_column(target, database, table.id, column)
    return retyped


def _same_shape(live: dict[str, Any], backed_up: dict[str, Any]) -> bool:
    return column_kind(live) == column_kind(backed_up) and bool(live.get("array")) == bool(
        backed_up.get("array")
    )


def _rows_outside(
    target: Target, database: str, table_id: str, ids: BackedUpIds
) -> Iterator[dict[str, Any]]:
    """The rows the backup does not have (created since), whole, a page of lookups at a time."""
    path = f"/tablesdb/{database}/tables/{table_id}/rows"
    for page in pages(iter_items(target.client, path, "rows", page=CHECK_PAGE), CHECK_PAGE):
        outside = set(ids.missing([row["$id"] for row in page]))
        yield from (row for row in page if row["$id"] in outside)


def _convert(kind: str, value: Any, column: dict[str, Any]) -> Any:
    """A value in the backed-up column's type, or None where it does not convert."""
    if value is None:
        return None
    if column.get("array"):
        return value if isinstance(value, list) else [value]
    try:
        if kind in ("integer", "bigint"):
            number = float(value)
            return int(number) if number.is_integer() else None
        if kind == "float":
            return float(value)
        if kind == "boolean":
            text = str(value).strip().lower()
            return {"true": True, "1": True, "false": False, "0": False}.get(text)
        if kind in ("varchar", "string", "text", "mediumtext", "longtext"):
            text = json.dumps(value) if isinstance(value, list | dict) else str(value)
            size = column.get("size")
            return text if not size or len(text) <= size else None
        if kind == "datetime":
            return value if isinstance(value, str) else None
    except (TypeError, ValueError, OverflowError):
        return None
    return value if isinstance(value, str) else None


def _put_converted(
    target: Target,
    database: str,
    table_id: str,
    ids: BackedUpIds,
    retyped: dict[str, dict[str, Any]],
    *,
    single: bool = False,
) -> None:
    """The rows created since the backup, back whole with each retyped column's value
    converted (None where it does not convert), in bulk upserts of a page each; their ids,
    timestamps and permissions are those they had."""
    for batch in pages(ids.kept(), PAGE):
        rows = []
        for row in batch:
            put = {k: v for k, v in row.items() if k not in _DROP}
            for key, column in retyped.items():
                put[key] = _convert(column_kind(column), row.get(key), column)
            rows.append(put)
        _write_rows(target, database, table_id, rows, "single" if single else "upsert")


def _create_column(target: Target, database: str, table_id: str, column: dict[str, Any]) -> None:
    item = inline_column(column)
    path = f"/tablesdb/{database}/tables/{table_id}/columns/{item['key']}"
    if item["type"] in SPATIAL:  # point, line, polygon: a value is coordinates, no options
        create = getattr(target.tables, f"create_{item['type']}_column")
        create(database, table_id, item["key"], bool(item.get("required")), item.get("default"))
        _wait(target, path, gone=False)
        return
    options = {
        k: item[k]
        for k in ("required", "default", "array", "size", "min", "max", "elements")
        if k in item
    }
    if item.get("required"):
        options.pop("default", None)
    spec = ColumnSpec.build(item["key"], item["type"], **options)
    getattr(target.tables, spec.create_method)(database, table_id, spec.key, **spec.sdk_arguments())
    _wait(target, f"/tablesdb/{database}/tables/{table_id}/columns/{spec.key}", gone=False)


def _delete_column(target: Target, database: str, table_id: str, key: str) -> None:
    target.tables.delete_column(database, table_id, key)
    _wait(target, f"/tablesdb/{database}/tables/{table_id}/columns/{key}", gone=True)


def _delete_index(target: Target, database: str, table_id: str, key: str) -> None:
    """An index on a column to retype goes first (Appwrite refuses the column otherwise);
    the backed-up indexes are recreated afterwards."""
    target.tables.delete_index(database, table_id, key)
    _wait(target, f"/tablesdb/{database}/tables/{table_id}/indexes/{key}", gone=True)


def _restore_indexes(target: Target, database: str, table: BackupTable, done: TableRestore) -> None:
    path = f"/tablesdb/{database}/tables/{table.id}"
    have = {i["key"] for i in (_get(target, path) or {}).get("indexes", [])}
    for index in table.definition.get("indexes", []):
        if index["key"] in have:
            continue
        item = inline_index(index)
        target.tables.create_index(
            database,
            table.id,
            item["key"],
            item["type"],
            item["attributes"],
            orders=item.get("orders"),
        )
        _wait(target, f"{path}/indexes/{item['key']}", gone=False)
        done.actions.append(f"recreated index {item['key']} ({item['type']})")


def _wait(target: Target, path: str, *, gone: bool) -> None:
    """Appwrite builds and removes columns and indexes asynchronously: wait for the end."""
    deadline = time.monotonic() + _WAIT_SECONDS
    delay = 0.02
    while time.monotonic() < deadline:
        item = _get(target, path)
        if gone and item is None:
            return
        if not gone and item is not None:
            if item.get("status") == "available":
                return
            if item.get("status") in ("failed", "stuck"):
                raise WorkbookError(
                    f"restoring {path} failed: Appwrite reports {item.get('status')} "
                    f"({item.get('error') or 'no reason given'})",
                    "fix the cause, then run the restore again: it is idempotent",
                )
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    raise WorkbookError(
        f"restoring {path}: still not {'gone' if gone else 'available'} after {_WAIT_SECONDS:.0f}s",
        "run the restore again once Appwrite has caught up",
    )


def _delete_others(target: Target, database: str, table_id: str, ids: BackedUpIds) -> int:
    """``--mode replace``: the rows the backup does not have go, a page per request (their
    ids are collected first: deleting under a cursor would pull the cursor's row away)."""
    path = f"/tablesdb/{database}/tables/{table_id}/rows"
    selected = iter_items(target.client, path, "rows", [Query.select(["$id"])], page=CHECK_PAGE)
    extra = [
        row_id
        for page in pages((row["$id"] for row in selected), CHECK_PAGE)
        for row_id in ids.missing(page)
    ]
    for start in range(0, len(extra), PAGE):
        chunk = extra[start : start + PAGE]
        target.tables.delete_rows(database, table_id, [Query.equal("$id", chunk)])
    return len(extra)


def row_digest(row: dict[str, Any], keys: list[str]) -> int:
    """One row's sha256 over the given fields, as a number the multiset sum adds up."""
    text = json.dumps({k: row.get(k) for k in keys}, sort_keys=True, ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def check_rows(
    target: Target, database: str, table: BackupTable, ids: BackedUpIds, *, exact: bool
) -> int:
    """Read the table back: every backed-up row is there with the backed-up values (a sum
    of per-row sha256, so order does not matter), and with ``exact`` no other row is."""
    keys: list[str] | None = None
    expected = 0
    for row in _iter_backup_rows(table):
        keys = keys or sorted(row)
        expected = (expected + row_digest(row, keys)) % (1 << 256)
    path = f"/tablesdb/{database}/tables/{table.id}/rows"
    found = 0
    others = 0
    total = 0
    for page in pages(iter_items(target.client, path, "rows", page=CHECK_PAGE), CHECK_PAGE):
        outside = set(ids.missing([row["$id"] for row in page]))
        others += len(outside)
        for row in page:
            if row["$id"] not in outside:
                total += 1
                found = (found + row_digest(row, keys or [])) % (1 << 256)
    if total != len(ids) or (exact and others):
        raise WorkbookError(
            f"after the restore {table.id} holds {total} of the backup's {len(ids)} row(s)"
            + (f" and {others} other(s)" if exact and others else ""),
            "run the restore again; if it persists, compare the table with the backup by hand",
        )
    if found != expected:
        raise WorkbookError(
            f"after the restore the rows of {table.id} differ from the backup (sha256)",
            "a column may have a type or bounds the backed-up values do not fit",
        )
    return total


def ensure_database(target: Target, database: str) -> None:
    """``--into-database``: the database beside the original, created when it is new."""
    if database == target.environment.database:
        raise WorkbookError(
            f"--into-database {database} is the environment's own database",
            "leave --into-database out to restore in place, or name another database",
        )
    if _get(target, f"/tablesdb/{database}") is None:
        target.tables.create(database, database)
