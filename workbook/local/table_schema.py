"""Columns and indexes of a table: validation, metadata, and the SQLite DDL behind them.

Creation answers `processing` and becomes `available` after the schema delay; deletion drops
the data at once and reads `deleting` for the schema delay, then 404 (see `meta`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from workbook.local import columns as cols
from workbook.local import relationships
from workbook.local.errors import appwrite_error, bad_request
from workbook.local.indexes import build_index, index_sql
from workbook.local.meta import (
    Item,
    TableRef,
    column_item_body,
    index_item_body,
    load_columns,
    load_indexes,
    table_ref,
)
from workbook.local.params import now_iso
from workbook.local.state import ServerState
from workbook.local.store import index_sql_name, quote


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


def _outcome(
    state: ServerState, kind: str, ref: TableRef, key: str, inline: bool
) -> tuple[str, str, bool]:
    """(status, error, physical) of a new column or index: available, unless a test injected
    a schema fault for it (then it is never built)."""
    fault = None if inline else state.faults.take_schema(kind, ref.id, key)
    if fault is None:
        return "available", "", True
    return fault.outcome, fault.error, False


def _record(
    conn: sqlite3.Connection,
    what: str,
    ref: TableRef,
    definition: dict[str, Any],
    status: str,
    error: str,
    ready_at: float,
    physical: bool,
) -> None:
    """Store a new column or index last in its table's order."""
    now = now_iso()
    position = conn.execute(
        f"SELECT COALESCE(MAX(position), 0) + 1 FROM {what} WHERE table_seq = ?", (ref.seq,)
    ).fetchone()[0]
    conn.execute(
        f"INSERT INTO {what} (table_seq, key, position, definition, status, error, ready_at, "
        "physical, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ref.seq,
            definition["key"],
            position,
            json.dumps(definition),
            status,
            error,
            ready_at,
            int(physical),
            now,
            now,
        ),
    )


def _mark_deleting(
    conn: sqlite3.Connection, state: ServerState, what: str, ref: TableRef, key: str
) -> None:
    """Its data is gone already; it reads `deleting` for the schema delay, then disappears."""
    conn.execute(
        f"UPDATE {what} SET status = 'deleting', physical = 0, ready_at = ?, "
        "updated_at = ? WHERE table_seq = ? AND key = ?",
        (time.time() + state.schema_delay, now_iso(), ref.seq, key),
    )


def add_column(
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
    status, error, physical = _outcome(state, "column", ref, key, inline)
    if physical:
        conn.execute(
            f"ALTER TABLE {ref.sql} ADD COLUMN {quote(key)} {cols.sql_affinity(definition)}"
        )
    _record(conn, "wb_columns", ref, definition, status, error, ready_at, physical)


def _create_relationship(
    state: ServerState, database_id: str, table_id: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """`POST …/columns/relationship`: both sides (two-way) recorded, links in a junction."""
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        ready_at = time.time() + state.schema_delay

        def record(target: TableRef, definition: dict[str, Any]) -> None:
            _purge(conn, target.seq)
            existing = load_columns(conn, target.seq)
            width = cols.row_width([c.definition for c in existing] + [definition])
            if len(existing) + 1 > cols.MAX_COLUMNS or width >= cols.ROW_WIDTH_LIMIT:
                raise appwrite_error("column_limit_exceeded", target.id)
            _record(conn, "wb_columns", target, definition, "available", "", ready_at, True)

        definition = relationships.create(conn, state, ref, params, record)
        now = now_iso()
        return cols.column_body(definition, "processing", "", now, now)


def update_relationship(
    state: ServerState, database_id: str, table_id: str, key: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        item = _column(conn, ref, key)
        if item.definition["type"] != "relationship":
            raise appwrite_error("column_type_invalid", key)
        if item.status != "available":
            raise appwrite_error("column_not_available", key)
        _purge(conn, ref.seq)  # a completed deletion must not hold the new key
        updated = relationships.update(conn, ref, item.definition, params)
        result = _find(load_columns(conn, ref.seq), updated["key"])
        assert result is not None
        return column_item_body(result)


def create_column(
    state: ServerState, database_id: str, table_id: str, kind: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """`POST …/columns/<kind>`: 202 with `processing`; available after the schema delay."""
    if kind == "relationship":
        return _create_relationship(state, database_id, table_id, params)
    definition = cols.build_column(kind, params)
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        add_column(conn, state, ref, definition, ready_at=time.time() + state.schema_delay)
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
        i.key
        for i in load_indexes(conn, ref.seq)
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
        _purge(conn, ref.seq)  # a completed deletion must not hold the new key
        updated = cols.update_column(item.definition, kind, params)
        new_key = updated["key"]
        if new_key != key:
            if any(
                c.key.lower() == new_key.lower() and c.key != key
                for c in load_columns(conn, ref.seq)
            ):
                raise appwrite_error("column_already_exists", new_key)
            if _index_users(conn, ref, key):
                raise appwrite_error("column_index_dependency", key)
        old_size = item.definition.get("size")
        if updated.get("size") is not None and old_size and updated["size"] < old_size:
            longest = conn.execute(f"SELECT MAX(LENGTH({quote(key)})) FROM {ref.sql}").fetchone()[0]
            if longest is not None and longest > updated["size"]:
                raise appwrite_error("column_invalid_resize")
        if new_key != key:
            conn.execute(f"ALTER TABLE {ref.sql} RENAME COLUMN {quote(key)} TO {quote(new_key)}")
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
        if item.definition["type"] == "relationship":

            def mark(target: TableRef, column_key: str) -> None:
                _mark_deleting(conn, state, "wb_columns", target, column_key)

            relationships.delete(conn, state, ref, item.definition, mark)
            return
        if _index_users(conn, ref, key):
            raise appwrite_error("column_index_dependency", key)
        if item.physical:
            conn.execute(f"ALTER TABLE {ref.sql} DROP COLUMN {quote(key)}")
        _mark_deleting(conn, state, "wb_columns", ref, key)


def add_index(
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
    status, error, physical = _outcome(state, "index", ref, key, inline)
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
    _record(conn, "wb_indexes", ref, definition, status, error, ready_at, physical)
    return definition


def create_index(
    state: ServerState, database_id: str, table_id: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        definition = add_index(conn, state, ref, params, ready_at=time.time() + state.schema_delay)
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
        _mark_deleting(conn, state, "wb_indexes", ref, key)
