"""Export and restore of a database's tables (schema and rows), streamed.

The runner exports before every run that writes, so nothing a migration deletes is lost:
``history/<env>/backups/<lock id>-before-<version>/`` holds ``schema.json`` and one
JSON-lines file per table. Rows are paged with a cursor and written as they come, so memory
stays flat whatever the table size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.core.client import Target
from workbook.core.ledger import LOCK_TABLE
from workbook.core.paging import PAGE, iter_items
from workbook.errors import WorkbookError


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
    counts: dict[str, int] = {}
    for table in tables:
        with (dest / f"{table['$id']}.jsonl").open("w", encoding="utf-8") as out:
            n = 0
            for row in iter_rows(target.client, database, table["$id"]):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        counts[table["$id"]] = n
    (dest / "schema.json").write_text(
        json.dumps({"database": database, "tables": tables, "rows": counts}, indent=1),
        encoding="utf-8",
    )
    return counts


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
    if column.get("type") == "string" and column.get("format") in ("email", "url", "ip", "enum"):
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


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        return json.loads((source / "schema.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbookError(
            f"{source} is not a Workbook backup (no readable schema.json)",
            "name a folder under history/<env>/backups/",
        ) from exc


def restore_table(target: Target, source: Path, table: dict[str, Any]) -> int:
    """Recreate a table that is gone (columns and indexes as backed up), then its rows."""
    database = target.environment.database
    try:
        target.tables.get_table(database, table["$id"])
    except AppwriteException as exc:
        if exc.code != 404:
            raise
        target.tables.create_table(
            database,
            table["$id"],
            table["name"],
            permissions=table.get("$permissions"),
            row_security=table.get("rowSecurity", False),
            columns=[inline_column(c) for c in table.get("columns", [])],
            indexes=[inline_index(i) for i in table.get("indexes", [])],
        )
    return restore_rows(target, source, table["$id"])


def restore_rows(target: Target, source: Path, table_id: str) -> int:
    """Upsert a table's exported rows back (timestamps kept: API keys may set them)."""
    database = target.environment.database
    drop = {"$sequence", "$tableId", "$databaseId"}
    batch: list[dict[str, Any]] = []
    total = 0
    with (source / f"{table_id}.jsonl").open(encoding="utf-8") as rows:
        for line in rows:
            batch.append({k: v for k, v in json.loads(line).items() if k not in drop})
            if len(batch) == PAGE:
                target.tables.upsert_rows(database, table_id, batch)
                total, batch = total + len(batch), []
    if batch:
        target.tables.upsert_rows(database, table_id, batch)
        total += len(batch)
    return total
