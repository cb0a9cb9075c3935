"""Databases, tables, columns and indexes: metadata plus the real SQLite DDL behind them.

A column or index status is a function of persisted data: `status` is where it ends up and
`ready_at` the moment it gets there (before that it reads `processing`). So the 202-then-available
lifecycle is right across restarts and across several server processes on one file.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbook.local import columns as cols
from workbook.local.errors import AppwriteError, appwrite_error, bad_request
from workbook.local.indexes import build_index, index_body, index_sql
from workbook.local.params import KEY_DESCRIPTION, is_key, now_iso
from workbook.local.state import ServerState
from workbook.local.store import SYSTEM_COLUMNS_SQL, index_sql_name, quote, table_sql_name

DATABASE_TYPES = ("tablesdb", "legacy")


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


# --- databases ------------------------------------------------------------------------------

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


def list_databases(state: ServerState) -> list[dict[str, Any]]:
    with state.store.read() as conn:
        rows = conn.execute("SELECT * FROM wb_databases ORDER BY seq").fetchall()
    return [database_body(r) for r in rows]


def create_database(
    state: ServerState, database_id: str, name: str, enabled: bool, type: str = "tablesdb"
) -> dict[str, Any]:
    now = now_iso()
    with state.store.write() as conn:
        try:
            conn.execute(
                "INSERT INTO wb_databases (id, name, enabled, type, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (database_id, name, int(enabled), type, now, now),
            )
        except sqlite3.IntegrityError:
            raise appwrite_error("database_already_exists", database_id) from None
        return database_body(database_row(conn, database_id))


def get_database(state: ServerState, database_id: str) -> dict[str, Any]:
    with state.store.read() as conn:
        return database_body(database_row(conn, database_id))


def update_database(
    state: ServerState, database_id: str, name: str | None, enabled: bool | None
) -> dict[str, Any]:
    with state.store.write() as conn:
        row = database_row(conn, database_id)
        conn.execute(
            "UPDATE wb_databases SET name = ?, enabled = ?, updated_at = ? WHERE seq = ?",
            (
                row["name"] if name is None else name,
                row["enabled"] if enabled is None else int(enabled),
                now_iso(),
                row["seq"],
            ),
        )
        return database_body(database_row(conn, database_id))


def delete_database(state: ServerState, database_id: str) -> None:
    with state.store.write() as conn:
        row = database_row(conn, database_id)
        tables = conn.execute("SELECT seq FROM wb_tables WHERE db_seq = ?", (row["seq"],))
        for table in tables.fetchall():
            _drop_table(conn, table["seq"])
        conn.execute("DELETE FROM wb_tables WHERE db_seq = ?", (row["seq"],))
        conn.execute("DELETE FROM wb_databases WHERE seq = ?", (row["seq"],))


# --- tables ---------------------------------------------------------------------------------

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
    return index_body(ref.db_seq, ref.seq, item.definition, item.status, item.error,
                      item.created, item.updated)


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


def list_tables(state: ServerState, database_id: str) -> list[dict[str, Any]]:
    with state.store.read() as conn:
        db = database_row(conn, database_id)
        rows = conn.execute(
            "SELECT id FROM wb_tables WHERE db_seq = ? ORDER BY seq", (db["seq"],)
        ).fetchall()
        return [table_body(conn, table_ref(conn, database_id, r["id"])) for r in rows]


def get_table(state: ServerState, database_id: str, table_id: str) -> dict[str, Any]:
    with state.store.read() as conn:
        return table_body(conn, table_ref(conn, database_id, table_id))


def create_table(
    state: ServerState,
    database_id: str,
    table_id: str,
    name: str,
    permissions: list[str],
    row_security: bool,
    enabled: bool,
    columns: Sequence[Mapping[str, Any]] = (),
    indexes: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Create the table and, synchronously and all-or-nothing, its inline columns and indexes."""
    definitions = inline_columns(columns)
    now = now_iso()
    with state.store.write() as conn:
        db = database_row(conn, database_id)
        try:
            cursor = conn.execute(
                "INSERT INTO wb_tables (db_seq, id, name, enabled, row_security, permissions, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (db["seq"], table_id, name, int(enabled), int(row_security),
                 json.dumps(permissions), now, now),
            )
        except sqlite3.IntegrityError:
            raise appwrite_error("table_already_exists", table_id) from None
        seq = int(cursor.lastrowid or 0)
        conn.execute(f"CREATE TABLE {quote(table_sql_name(seq))} ({SYSTEM_COLUMNS_SQL})")
        ref = table_ref(conn, database_id, table_id)
        for definition in definitions:
            _add_column(conn, state, ref, definition, ready_at=0.0, inline=True)
        for item in indexes:
            spec = dict(item)
            if "columns" not in spec and "attributes" in spec:
                spec["columns"] = spec.pop("attributes")
            _add_index(conn, state, ref, spec, ready_at=0.0, inline=True)
        return table_body(conn, ref)


def _argument(message: str) -> AppwriteError:
    return AppwriteError(400, "general_argument_invalid", message)


def inline_columns(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Validate the `columns` of a table create as Appwrite's Attributes validator does:
    every problem is a 400 `general_argument_invalid` naming the item."""
    definitions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise _argument(f"Attribute at index {index} must be an object")
        for field in ("key", "type"):
            if field not in item:
                raise _argument(f"Attribute at index {index} is missing required field '{field}'")
        key = item["key"]
        if not is_key(key):
            raise _argument(f"Invalid key for attribute at index {index}: {KEY_DESCRIPTION}")
        if key.lower() in seen:
            raise _argument(f"Duplicate attribute key: {key}")
        seen.add(key.lower())
        definitions.append(inline_column(item))
    return definitions


def inline_column(item: Mapping[str, Any]) -> dict[str, Any]:
    """One inline column item; `type` as stored (double, string+format) or as the route name."""
    kind = item.get("type")
    key = item.get("key")
    fmt = item.get("format")
    if kind == "relationship":
        raise _argument(
            "Relationship attributes cannot be created inline. Use the create relationship "
            "endpoint instead."
        )
    if kind == "string" and fmt in cols.FORMAT_SIZES:
        kind = fmt
    elif kind in ("double", "float"):
        kind = "float"
    if kind in cols.SPATIAL:
        raise cols.unsupported_type(str(kind))
    if kind not in cols.CREATABLE:
        raise _argument(f"Invalid type for attribute '{key}': {kind}")
    if item.get("default") is not None and item.get("required"):
        raise _argument(f"Attribute '{key}' cannot have a default value when required is true")
    if item.get("default") is not None and item.get("array"):
        raise _argument(f"Attribute '{key}' cannot have a default value when array is true")
    try:
        return cols.build_column(str(kind), {"required": False, **item}, inline=True)
    except AppwriteError as error:
        raise _argument(f"Attribute '{key}': {error.message}") from None


def update_table(
    state: ServerState,
    database_id: str,
    table_id: str,
    name: str | None,
    permissions: list[str] | None,
    row_security: bool | None,
    enabled: bool | None,
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        row = ref.row
        conn.execute(
            "UPDATE wb_tables SET name = ?, permissions = ?, row_security = ?, enabled = ?, "
            "updated_at = ? WHERE seq = ?",
            (
                row["name"] if name is None else name,
                row["permissions"] if permissions is None else json.dumps(permissions),
                row["row_security"] if row_security is None else int(row_security),
                row["enabled"] if enabled is None else int(enabled),
                now_iso(),
                ref.seq,
            ),
        )
        return table_body(conn, table_ref(conn, database_id, table_id))


def delete_table(state: ServerState, database_id: str, table_id: str) -> None:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        _drop_table(conn, ref.seq)
        conn.execute("DELETE FROM wb_tables WHERE seq = ?", (ref.seq,))


def _drop_table(conn: sqlite3.Connection, table_seq: int) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {quote(table_sql_name(table_seq))}")
    conn.execute("DELETE FROM wb_columns WHERE table_seq = ?", (table_seq,))
    conn.execute("DELETE FROM wb_indexes WHERE table_seq = ?", (table_seq,))


# --- columns --------------------------------------------------------------------------------

def _purge(conn: sqlite3.Connection, table_seq: int) -> None:
    """Forget metadata of deletions that have completed (their DDL already ran)."""
    now = time.time()
    for what in ("wb_columns", "wb_indexes"):
        conn.execute(
            f"DELETE FROM {what} WHERE table_seq = ? AND status = 'deleting' AND ready_at <= ?",
            (table_seq, now),
        )


def _find(items: list[Item], key: str) -> Item | None:
    for item in items:
        if item.key == key:
            return item
    return None


def _add_column(
    conn: sqlite3.Connection,
    state: ServerState,
    ref: TableRef,
    definition: dict[str, Any],
    *,
    ready_at: float,
    inline: bool = False,
) -> None:
    _purge(conn, ref.seq)
    existing = load_columns(conn, ref.seq)
    key = definition["key"]
    if any(c.key.lower() == key.lower() for c in existing):
        raise appwrite_error("column_already_exists", key)
    width = cols.row_width([c.definition for c in existing] + [definition])
    # utopia's attribute validator refuses width >= limit; a table create only width > limit.
    too_wide = width > cols.ROW_WIDTH_LIMIT if inline else width >= cols.ROW_WIDTH_LIMIT
    if len(existing) + 1 > cols.MAX_COLUMNS or too_wide:
        raise appwrite_error("column_limit_exceeded", ref.id)
    fault = None if inline else state.faults.take_schema("column", ref.id, key)
    status, error, physical = "available", "", True
    if fault is not None:
        status, error, physical = fault.outcome, fault.error, False
    if physical:
        conn.execute(
            f"ALTER TABLE {ref.sql} ADD COLUMN {quote(key)} {cols.sql_affinity(definition)}"
        )
    now = now_iso()
    position = conn.execute(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM wb_columns WHERE table_seq = ?", (ref.seq,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO wb_columns (table_seq, key, position, definition, status, error, ready_at, "
        "physical, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ref.seq, key, position, json.dumps(definition), status, error, ready_at,
         int(physical), now, now),
    )


def create_column(
    state: ServerState, database_id: str, table_id: str, kind: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """`POST …/columns/<kind>`: 202 with `processing`; available after the schema delay."""
    definition = cols.build_column(kind, params)
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        _add_column(conn, state, ref, definition, ready_at=time.time() + state.schema_delay)
        now = conn.execute(
            "SELECT created_at FROM wb_columns WHERE table_seq = ? AND key = ?",
            (ref.seq, definition["key"]),
        ).fetchone()[0]
        return cols.column_body(definition, "processing", "", now, now)


def list_columns(state: ServerState, database_id: str, table_id: str) -> list[dict[str, Any]]:
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        return [column_item_body(c) for c in load_columns(conn, ref.seq)]


def _column(conn: sqlite3.Connection, ref: TableRef, key: str) -> Item:
    item = _find(load_columns(conn, ref.seq), key)
    if item is None:
        raise appwrite_error("column_not_found", key)
    return item


def get_column(state: ServerState, database_id: str, table_id: str, key: str) -> dict[str, Any]:
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        return column_item_body(_column(conn, ref, key))


def _index_users(conn: sqlite3.Connection, ref: TableRef, key: str) -> list[str]:
    return [
        i.key for i in load_indexes(conn, ref.seq)
        if i.status != "deleting" and key in i.definition.get("columns", [])
    ]


def update_column(
    state: ServerState,
    database_id: str,
    table_id: str,
    kind: str,
    key: str,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """`PATCH …/columns/<kind>/<key>`: synchronous; needs the column `available`."""
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        item = _column(conn, ref, key)
        if item.status != "available":
            raise appwrite_error("column_not_available")
        updated = cols.update_column(item.definition, kind, params)
        new_key = updated["key"]
        if new_key != key:
            if any(c.key.lower() == new_key.lower() and c.key != key
                   for c in load_columns(conn, ref.seq)):
                raise appwrite_error("column_already_exists", new_key)
            if _index_users(conn, ref, key):
                raise appwrite_error("column_index_dependency", key)
        old_size = item.definition.get("size")
        if updated.get("size") is not None and old_size and updated["size"] < old_size:
            longest = conn.execute(
                f"SELECT MAX(LENGTH({quote(key)})) FROM {ref.sql}"
            ).fetchone()[0]
            if longest is not None and longest > updated["size"]:
                raise appwrite_error("column_invalid_resize")
        if new_key != key:
            conn.execute(
                f"ALTER TABLE {ref.sql} RENAME COLUMN {quote(key)} TO {quote(new_key)}"
            )
        now = now_iso()
        conn.execute(
            "UPDATE wb_columns SET key = ?, definition = ?, updated_at = ? "
            "WHERE table_seq = ? AND key = ?",
            (new_key, json.dumps(updated), now, ref.seq, key),
        )
        result = _find(load_columns(conn, ref.seq), new_key)
        assert result is not None
        return column_item_body(result)


def delete_column(state: ServerState, database_id: str, table_id: str, key: str) -> None:
    """Drop the data at once; the column reads `deleting` for the schema delay, then 404."""
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        item = _column(conn, ref, key)
        if item.status == "deleting":
            return
        if _index_users(conn, ref, key):
            raise appwrite_error("column_index_dependency", key)
        if item.physical:
            conn.execute(f"ALTER TABLE {ref.sql} DROP COLUMN {quote(key)}")
        conn.execute(
            "UPDATE wb_columns SET status = 'deleting', physical = 0, ready_at = ?, "
            "updated_at = ? WHERE table_seq = ? AND key = ?",
            (time.time() + state.schema_delay, now_iso(), ref.seq, key),
        )


# --- indexes --------------------------------------------------------------------------------

def _add_index(
    conn: sqlite3.Connection,
    state: ServerState,
    ref: TableRef,
    params: Mapping[str, Any],
    *,
    ready_at: float,
    inline: bool = False,
) -> dict[str, Any]:
    _purge(conn, ref.seq)
    existing = load_indexes(conn, ref.seq)
    definition = build_index(params, load_columns(conn, ref.seq), existing, ref.id)
    key = definition["key"]
    fault = None if inline else state.faults.take_schema("index", ref.id, key)
    status, error, physical = "available", "", True
    if fault is not None:
        status, error, physical = fault.outcome, fault.error, False
    if physical:
        try:
            conn.execute(index_sql(ref.sql, quote(index_sql_name(ref.seq, key)), definition))
        except sqlite3.IntegrityError as exc:
            if inline:
                raise bad_request(
                    "column_index_invalid", f"Index could not be created: {exc}"
                ) from None
            status, physical = "failed", False
            error = f"Duplicate entry violates unique index: {exc}"
    now = now_iso()
    position = conn.execute(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM wb_indexes WHERE table_seq = ?", (ref.seq,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO wb_indexes (table_seq, key, position, definition, status, error, ready_at, "
        "physical, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ref.seq, key, position, json.dumps(definition), status, error, ready_at,
         int(physical), now, now),
    )
    return definition


def create_index(
    state: ServerState, database_id: str, table_id: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        definition = _add_index(conn, state, ref, params,
                                ready_at=time.time() + state.schema_delay)
        item = _find(load_indexes(conn, ref.seq), definition["key"])
        assert item is not None
        body = index_item_body(ref, item)
        body["status"] = "processing"
        body["error"] = ""
        return body


def _index(conn: sqlite3.Connection, ref: TableRef, key: str) -> Item:
    item = _find(load_indexes(conn, ref.seq), key)
    if item is None:
        raise appwrite_error("column_index_not_found", key)
    return item


def list_indexes(state: ServerState, database_id: str, table_id: str) -> list[dict[str, Any]]:
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        return [index_item_body(ref, i) for i in load_indexes(conn, ref.seq)]


def get_index(state: ServerState, database_id: str, table_id: str, key: str) -> dict[str, Any]:
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        return index_item_body(ref, _index(conn, ref, key))


def delete_index(state: ServerState, database_id: str, table_id: str, key: str) -> None:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        item = _index(conn, ref, key)
        if item.status == "deleting":
            return
        if item.physical:
            conn.execute(f"DROP INDEX IF EXISTS {quote(index_sql_name(ref.seq, item.key))}")
        conn.execute(
            "UPDATE wb_indexes SET status = 'deleting', physical = 0, ready_at = ?, "
            "updated_at = ? WHERE table_seq = ? AND key = ?",
            (time.time() + state.schema_delay, now_iso(), ref.seq, key),
        )


def available_columns(conn: sqlite3.Connection, ref: TableRef) -> list[dict[str, Any]]:
    """The columns row reads and writes see: those the 'worker' has finished adding."""
    return [c.definition for c in load_columns(conn, ref.seq)
            if c.status == "available" and c.physical]


def fulltext_keys(conn: sqlite3.Connection, ref: TableRef) -> list[str]:
    return [
        i.definition["columns"][0]
        for i in load_indexes(conn, ref.seq)
        if i.status == "available" and i.definition.get("type") == "fulltext"
        and len(i.definition.get("columns", [])) == 1
    ]
