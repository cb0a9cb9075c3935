"""What row routes need to know of a table, read once per metadata version instead of per request.

A row request used to re-read the database, table, column and index metadata and re-parse every
column's rules. Now it reads one counter (`store.schema_version`, bumped by triggers on any
metadata change, from any process) and reuses the last answer while the counter is unchanged and
no column or index has reached a `ready_at` moment since (statuses move with time, see `meta`).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from workbook.local.meta import (
    TableRef,
    available_columns,
    fulltext_keys,
    relation_columns,
    table_ref,
)
from workbook.local.queries import ColumnSpec
from workbook.local.row_codec import RowCodec
from workbook.local.store import schema_version

MAX_ENTRIES = 256


@dataclass
class TableSchema:
    """A table as row reads and writes see it: available columns, compiled, and its indexes."""

    ref: TableRef
    columns: list[dict[str, Any]]
    specs: dict[str, ColumnSpec]
    fulltext: list[str]
    codec: RowCodec
    valid_until: float
    relations: dict[str, dict[str, Any]] = field(default_factory=dict)


def _next_change(conn: sqlite3.Connection, table_seq: int, now: float) -> float:
    """The first moment after `now` when a column or index of the table changes status."""
    found = conn.execute(
        "SELECT MIN(ready_at) FROM (SELECT ready_at FROM wb_columns WHERE table_seq = ? "
        "UNION ALL SELECT ready_at FROM wb_indexes WHERE table_seq = ?) WHERE ready_at > ?",
        (table_seq, table_seq, now),
    ).fetchone()[0]
    return float("inf") if found is None else float(found)


def load_table_schema(conn: sqlite3.Connection, database_id: str, table_id: str) -> TableSchema:
    now = time.time()
    ref = table_ref(conn, database_id, table_id)
    columns = available_columns(conn, ref)
    specs = {
        c["key"]: ColumnSpec(c["key"], c["type"], bool(c.get("array")), c.get("format"))
        for c in columns
    }
    return TableSchema(
        ref,
        columns,
        specs,
        fulltext_keys(conn, ref),
        RowCodec(ref.id, ref.db_id, columns),
        _next_change(conn, ref.seq, now),
        {c["key"]: c for c in relation_columns(conn, ref)},
    )


@dataclass
class TableCache:
    """Per process; used only inside a store transaction, so under the store's lock."""

    version: int | None = None
    entries: dict[tuple[str, str], TableSchema] = field(default_factory=dict)

    def get(self, conn: sqlite3.Connection, database_id: str, table_id: str) -> TableSchema:
        version = schema_version(conn)
        if version != self.version:
            self.entries.clear()
            self.version = version
        key = (database_id, table_id)
        entry = self.entries.get(key)
        if entry is None or time.time() >= entry.valid_until:
            entry = load_table_schema(conn, database_id, table_id)
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()
            self.entries[key] = entry
        return entry
