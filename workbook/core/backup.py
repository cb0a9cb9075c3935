"""Export of a database's tables (schema and rows), streamed, with a manifest that proves it.

The runner exports before every run that writes, so nothing a migration deletes is lost:
``history/<env>/backups/<lock id>-before-<version>/`` holds one JSON-lines file per table
and ``schema.json``, the manifest: the database, each table's definition, and each file's
row count and sha256. The manifest is written last and atomically, so an export that was
interrupted has none and cannot be mistaken for a backup; the checksums let ``restore``
refuse a file that was truncated or edited since. Rows are paged with a cursor and written
as they come, so memory stays flat whatever the table size.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.query import Query

from workbook.core.client import Target
from workbook.core.ledger import LOCK_TABLE
from workbook.core.paging import iter_items

MANIFEST = "schema.json"
FORMAT = 2  # 2: per-file sha256 and row counts under "files"
MANIFEST_KEYS = ("format", "database", "tables", "rows", "files")


def table_file(table_id: str) -> str:
    """The file holding a table's rows, one JSON object per line."""
    return f"{table_id}.jsonl"


def iter_tables(client: Client, database_id: str) -> Iterator[dict[str, Any]]:
    return iter_items(client, f"/tablesdb/{database_id}/tables", "tables")


def iter_rows(client: Client, database_id: str, table_id: str) -> Iterator[dict[str, Any]]:
    return iter_items(
        client,
        f"/tablesdb/{database_id}/tables/{table_id}/rows",
        "rows",
        [Query.order_asc("$sequence")],
    )


def export_database(target: Target, dest: Path) -> dict[str, int]:
    """Write every table's schema and rows under ``dest``; returns rows per table."""
    database = target.environment.database
    dest.mkdir(parents=True, exist_ok=True)
    tables = [t for t in iter_tables(target.client, database) if t["$id"] != LOCK_TABLE]
    files = {t["$id"]: _export_rows(target.client, database, t["$id"], dest) for t in tables}
    counts = {table_id: entry["rows"] for table_id, entry in files.items()}
    manifest = {
        "format": FORMAT,
        "database": database,
        "tables": tables,
        "rows": counts,
        "files": files,
    }
    _write_atomically(dest / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
    return counts


def _export_rows(client: Client, database: str, table_id: str, dest: Path) -> dict[str, Any]:
    """One table's rows to its file, durably; returns the file's row count and sha256."""
    digest = hashlib.sha256()
    count = 0
    with (dest / table_file(table_id)).open("wb") as out:
        for row in iter_rows(client, database, table_id):
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            out.write(line)
            digest.update(line)
            count += 1
        out.flush()
        os.fsync(out.fileno())
    return {"rows": count, "sha256": digest.hexdigest()}


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the whole file or none: written beside, synced, then renamed over."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
