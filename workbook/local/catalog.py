"""Databases and tables: their metadata rows and the real SQLite table behind each table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from workbook.local import columns as cols
from workbook.local.errors import AppwriteError, appwrite_error
from workbook.local.meta import database_body, database_row, table_body, table_ref
from workbook.local.params import KEY_DESCRIPTION, is_key, now_iso
from workbook.local.state import ServerState
from workbook.local.store import SYSTEM_COLUMNS_SQL, quote, table_sql_name
from workbook.local.table_schema import add_column, add_index


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
                (
                    db["seq"],
                    table_id,
                    name,
                    int(enabled),
                    int(row_security),
                    json.dumps(permissions),
                    now,
                    now,
                ),
            )
        except sqlite3.IntegrityError:
            raise appwrite_error("table_already_exists", table_id) from None
        seq = int(cursor.lastrowid or 0)
        conn.execute(f"CREATE TABLE {quote(table_sql_name(seq))} ({SYSTEM_COLUMNS_SQL})")
        ref = table_ref(conn, database_id, table_id)
        for definition in definitions:
            add_column(conn, state, ref, definition, ready_at=0.0, inline=True)
        for item in indexes:
            spec = dict(item)
            if "columns" not in spec and "attributes" in spec:
                spec["columns"] = spec.pop("attributes")
            add_index(conn, state, ref, spec, ready_at=0.0, inline=True)
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
    if kind == "linestring":
        kind = "line"
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
