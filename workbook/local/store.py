"""The SQLite file behind the local server: one connection, one writer, commit before answering.

WAL with `synchronous=NORMAL` makes every committed transaction survive a kill -9 of the server
(the WAL is in the OS before COMMIT returns); `BEGIN IMMEDIATE` plus `busy_timeout` lets several
server processes share one file. Metadata lives in `wb_*` tables; each Appwrite table is a real
table `t_<seq>` with system columns `_seq`, `_uid`, `_createdAt`, `_updatedAt`, `_permissions`.

Triggers bump `wb_version` on every metadata write, whoever makes it (this process, another
server process on the same file, a test poking SQL), so a cache of metadata stays correct by
reading that one counter per request.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbook.local.geometry import spatial_test
from workbook.local.queries import spatial_distance

BUSY_TIMEOUT_MS = 30_000

METADATA = """
CREATE TABLE IF NOT EXISTS wb_databases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wb_tables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    db_seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    row_security INTEGER NOT NULL,
    permissions TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (db_seq, id)
);
CREATE TABLE IF NOT EXISTS wb_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT OR IGNORE INTO wb_version (id, n) VALUES (1, 0)
"""
# Columns and indexes: the same lifecycle (see `meta`), so the same table shape.
ITEMS = """
CREATE TABLE IF NOT EXISTS {name} (
    table_seq INTEGER NOT NULL,
    key TEXT NOT NULL COLLATE NOCASE,
    position INTEGER NOT NULL,
    definition TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    ready_at REAL NOT NULL DEFAULT 0,
    physical INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (table_seq, key)
)"""
ITEM_TABLES = ("wb_columns", "wb_indexes")
# Transactions and their staged operations (data, not schema: no version bump).
TRANSACTIONS = """
CREATE TABLE IF NOT EXISTS wb_transactions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    operations INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS wb_transaction_ops (
    txn_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    action TEXT NOT NULL,
    database_id TEXT NOT NULL,
    table_id TEXT NOT NULL,
    row_id TEXT,
    data TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (txn_id, position)
)"""
METADATA_TABLES = ("wb_databases", "wb_tables", *ITEM_TABLES)


def _version_triggers() -> list[str]:
    """One trigger per metadata table and event: any change there bumps `wb_version.n`."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_bumps_version AFTER {event} "
        f"ON {table} BEGIN UPDATE wb_version SET n = n + 1 WHERE id = 1; END"
        for table in METADATA_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


def schema_version(conn: sqlite3.Connection) -> int:
    """The metadata version this transaction sees; it changes whenever any metadata changes."""
    return conn.execute("SELECT n FROM wb_version WHERE id = 1").fetchone()[0]


SYSTEM_COLUMNS_SQL = (
    '"_seq" INTEGER PRIMARY KEY AUTOINCREMENT, "_uid" TEXT NOT NULL UNIQUE, '
    '"_createdAt" TEXT, "_updatedAt" TEXT, "_permissions" TEXT'
)
SYSTEM_KEYS = {
    "$id": "_uid",
    "$sequence": "_seq",
    "$createdAt": "_createdAt",
    "$updatedAt": "_updatedAt",
}


def quote(name: str) -> str:
    """An SQL identifier; keys are validated to `[A-Za-z0-9._-]`, so doubling quotes is enough."""
    return '"' + name.replace('"', '""') + '"'


def table_sql_name(table_seq: int) -> str:
    return f"t_{table_seq}"


def index_sql_name(table_seq: int, key: str) -> str:
    return f"i_{table_seq}_{key}"


class Store:
    """One SQLite connection guarded by one lock; every request runs as one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(
            str(self.path),
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.create_function("wb_distance", 3, spatial_distance, deterministic=True)
        self._conn.create_function("wb_spatial", 3, spatial_test, deterministic=True)
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        with self.write() as conn:
            items = [ITEMS.format(name=name) for name in ITEM_TABLES]
            statements = [*METADATA.split(";"), *items, *_version_triggers()]
            for statement in [*statements, *TRANSACTIONS.split(";")]:
                if statement.strip():
                    conn.execute(statement)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed (durably, in the WAL) before the caller answers.

        Inside another write of this thread (a transaction's commit replaying its operations)
        it is a savepoint: undone alone on failure, committed with the outer transaction."""
        with self._lock:
            if self._depth:
                with self._savepoint():
                    yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        self._conn.execute("SAVEPOINT wb_nested")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO wb_nested")
            self._conn.execute("RELEASE wb_nested")
            raise
        self._conn.execute("RELEASE wb_nested")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for a list and its count (inside a
        write of this thread, that write's own view)."""
        with self._lock:
            if self._depth:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                if self._conn.in_transaction:
                    self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
