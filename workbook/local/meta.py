"""Reading the local server's metadata: databases, tables, and the resolved status of their
columns and indexes, in the shapes Appwrite answers.

A column or index status is a function of persisted data: `status` is where it ends up and
`ready_at` the moment it gets there (before that it reads `processing`). So the 202-then-available
lifecycle is right across restarts and across several server processes on one file.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from workbook.local import columns as cols
from workbook.local.errors import appwrite_error
from workbook.local.indexes import index_body
from workbook.local.store import quote, table_sql_name


@dataclass(slots=True)
class Item:
    """One column or index row of the metadata, with its status resolved for `now`."""

    definition: dict[str, Any]
    status: str
    error: str
    physical: bool
    created: str
    updated: str
    position: int

    @property
    def key(self) -> str:
        return self.definition["key"]


@dataclass
class TableRef:
    db_seq: int
    db_id: str
    seq: int
    id: str
    row: sqlite3.Row

    @property
    def sql(self) -> str:
        return quote(table_sql_name(self.seq))


@functools.lru_cache(maxsize=1 << 16)
def parse_definition(text: str) -> dict[str, Any]:
    """Stored definitions are read on every request; parse each distinct one once.

    The cached dict is shared: callers treat definitions as read-only and build new ones.
    """
    return json.loads(text)


def resolve_status(status: str, ready_at: float, now: float) -> str | None:
    """What a client sees now; None once a deletion has completed."""
    if status == "deleting":
        return None if now >= ready_at else "deleting"
    if now < ready_at:
        return "processing"
    return status


def database_body(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "$id": row["id"],
        "name": row["name"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "enabled": bool(row["enabled"]),
        "type": row["type"],
        "status": "ready",
    }


def database_row(conn: sqlite3.Connection, database_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM wb_databases WHERE id = ?", (database_id,)).fetchone()
    if row is None:
        raise appwrite_error("database_not_found", database_id)
    return row


def table_ref(conn: sqlite3.Connection, database_id: str, table_id: str) -> TableRef:
    db = database_row(conn, database_id)
    row = conn.execute(
        "SELECT * FROM wb_tables WHERE db_seq = ? AND id = ?", (db["seq"], table_id)
    ).fetchone()
    if row is None:
        raise appwrite_error("table_not_found", table_id)
    return TableRef(db["seq"], db["id"], row["seq"], row["id"], row)


def load_items(conn: sqlite3.Connection, what: str, table_seq: int) -> list[Item]:
    """Columns or indexes of a table, in creation order, without completed deletions."""
    assert what in ("wb_columns", "wb_indexes")
    now = time.time()
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(
        "SELECT definition, status, ready_at, error, physical, created_at, updated_at, position "
        f"FROM {what} WHERE table_seq = ? ORDER BY position",
        (table_seq,),
    )
    items: list[Item] = []
    for definition, stored, ready_at, error, physical, created, updated, position in cursor:
        status = resolve_status(stored, ready_at, now)
        if status is None:
            continue
        items.append(
            Item(
                parse_definition(definition),
                status,
                error if status in ("failed", "stuck") else "",
                bool(physical),
                created,
                updated,
                position,
            )
        )
    return items


def load_columns(conn: sqlite3.Connection, table_seq: int) -> list[Item]:
    return load_items(conn, "wb_columns", table_seq)


def load_indexes(conn: sqlite3.Connection, table_seq: int) -> list[Item]:
    return load_items(conn, "wb_indexes", table_seq)


def column_item_body(item: Item) -> dict[str, Any]:
    return cols.column_body(item.definition, item.status, item.error, item.created, item.updated)


def index_item_body(ref: TableRef, item: Item) -> dict[str, Any]:
    return index_body(
        ref.db_seq, ref.seq, item.definition, item.status, item.error, item.created, item.updated
    )


def table_body(conn: sqlite3.Connection, ref: TableRef) -> dict[str, Any]:
    row = ref.row
    columns = load_columns(conn, ref.seq)
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "$permissions": json.loads(row["permissions"]),
        "databaseId": ref.db_id,
        "name": row["name"],
        "enabled": bool(row["enabled"]),
        "rowSecurity": bool(row["row_security"]),
        "columns": [column_item_body(c) for c in columns],
        "indexes": [index_item_body(ref, i) for i in load_indexes(conn, ref.seq)],
        "bytesMax": cols.ROW_WIDTH_LIMIT,
        "bytesUsed": cols.row_width([c.definition for c in columns]),
    }


def available_columns(conn: sqlite3.Connection, ref: TableRef) -> list[dict[str, Any]]:
    """The columns row reads and writes see: those the 'worker' has finished adding."""
    return [
        c.definition
        for c in load_columns(conn, ref.seq)
        if c.status == "available" and c.physical and c.definition["type"] != "relationship"
    ]


def relation_columns(conn: sqlite3.Connection, ref: TableRef) -> list[dict[str, Any]]:
    """The table's available relationship columns (stored in junction tables, not in its own)."""
    return [
        c.definition
        for c in load_columns(conn, ref.seq)
        if c.status == "available" and c.definition["type"] == "relationship"
    ]


def fulltext_keys(conn: sqlite3.Connection, ref: TableRef) -> list[str]:
    return [
        i.definition["columns"][0]
        for i in load_indexes(conn, ref.seq)
        if i.status == "available"
        and i.definition.get("type") == "fulltext"
        and len(i.definition.get("columns", [])) == 1
    ]
