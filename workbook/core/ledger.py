"""What is applied where: one row per run in a table of the target, like Flyway's history.

Living in the target, the ledger is the same truth for every operator and CI job that
reaches the environment. ``history/<env>/applied.json`` mirrors it for reviewers, in the
seed's shape. This module only reads and writes rows; *which* writes happen, and when, is
decided by :mod:`workbook.core.journal`, the one owner of a run's life.
"""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from workbook.core.paging import iter_items
from workbook.settings import USER

LEDGER_TABLE = "workbook_ledger"
LOCK_TABLE = "workbook_lock"
LOCK_ROW = "lock"
BACKFILL_TABLE = "workbook_backfill"  # finished chunks of partitioned backfills
WORKBOOK_TABLES = (LEDGER_TABLE, LOCK_TABLE, BACKFILL_TABLE)
ERROR_LIMIT = 10_000


class RunState(StrEnum):
    """A run's states. ``running`` is the only one that may change, and only once."""

    RUNNING = "running"
    APPLIED = "applied"
    FAILED = "failed"
    STAMPED = "stamped"  # recorded as applied without running (adopting a live schema)
    # stopped at a checklist gate before its risky cells: the next run with the step
    # confirmed goes on (runtime/checklist.py); ``error`` says what it waits for
    AWAITING = "awaiting"

    @property
    def terminal(self) -> bool:
        return self is not RunState.RUNNING


_LEDGER_COLUMNS: list[dict[str, Any]] = [
    {"key": "version", "type": "varchar", "size": 16, "required": True},
    {"key": "description", "type": "varchar", "size": 255, "required": False},
    {"key": "direction", "type": "varchar", "size": 8, "required": True},
    {"key": "state", "type": "varchar", "size": 16, "required": True},
    {"key": "checksum", "type": "varchar", "size": 64, "required": False},
    {"key": "environment", "type": "varchar", "size": 64, "required": False},
    {"key": "applied_by", "type": "varchar", "size": 128, "required": False},
    {"key": "started_at", "type": "datetime", "required": False},
    {"key": "finished_at", "type": "datetime", "required": False},
    {"key": "archive", "type": "varchar", "size": 512, "required": False},
    {"key": "error", "type": "text", "required": False},
    {"key": "lock_id", "type": "varchar", "size": 64, "required": False},
    {"key": "migration", "type": "varchar", "size": 128, "required": False},
    {"key": "host", "type": "varchar", "size": 128, "required": False},
    {"key": "pid", "type": "integer", "required": False},
    {"key": "schema_before", "type": "varchar", "size": 64, "required": False},  # markers:
    {"key": "schema_after", "type": "varchar", "size": 64, "required": False},  # fingerprints
    {"key": "checklist", "type": "text", "required": False},  # steps confirmed: who, when
]
_LOCK_COLUMNS: list[dict[str, Any]] = [
    {"key": "run_id", "type": "varchar", "size": 64, "required": True},
    {"key": "owner", "type": "varchar", "size": 128, "required": False},
    {"key": "acquired_at", "type": "datetime", "required": False},
    {"key": "host", "type": "varchar", "size": 128, "required": False},
    {"key": "pid", "type": "integer", "required": False},
    {"key": "heartbeat_at", "type": "datetime", "required": False},
    {"key": "lease_seconds", "type": "double", "required": False},
]
_BACKFILL_COLUMNS: list[dict[str, Any]] = [
    {"key": "backfill", "type": "varchar", "size": 255, "required": True},  # its key
    {"key": "chunk", "type": "integer", "required": True},  # -1: the plan row
    {"key": "run_id", "type": "varchar", "size": 64, "required": False},
    {"key": "bounds", "type": "text", "required": False},  # the plan's $sequence bounds
    {"key": "scanned", "type": "integer", "required": False},
    {"key": "changed", "type": "integer", "required": False},
    {"key": "finished_at", "type": "datetime", "required": False},
]
_CREATE_COLUMN = {
    "varchar": "create_varchar_column",
    "text": "create_text_column",
    "datetime": "create_datetime_column",
    "integer": "create_integer_column",
    "double": "create_float_column",
}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def operator() -> str:
    """Who is running: WORKBOOK_USER, else git's user.name, else the OS user."""
    user = USER.get()
    if user:
        return user
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or getpass.getuser()


@dataclass(frozen=True)
class RunRecord:
    """One run of one migration in one direction, as the ledger holds it."""

    run_id: str
    version: str
    description: str
    direction: str
    state: RunState
    checksum: str
    environment: str
    applied_by: str
    started_at: str
    finished_at: str | None = None
    archive: str | None = None
    error: str | None = None
    lock_id: str | None = None
    migration: str | None = None
    host: str | None = None
    pid: int | None = None
    schema_before: str | None = None  # the normalized schema's hash when the run opened
    schema_after: str | None = None  # … and when it finished (applied) or was stamped
    checklist: str | None = None  # JSON {step id: {how, by, at}}: checklist steps confirmed

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        return cls(
            run_id=row["$id"],
            version=row["version"],
            description=row.get("description") or "",
            direction=row["direction"],
            state=RunState(row["state"]),
            checksum=row.get("checksum") or "",
            environment=row.get("environment") or "",
            applied_by=row.get("applied_by") or "",
            started_at=row.get("started_at") or row.get("$createdAt") or "",
            finished_at=row.get("finished_at"),
            archive=row.get("archive"),
            error=row.get("error"),
            lock_id=row.get("lock_id"),
            migration=row.get("migration"),
            host=row.get("host"),
            pid=row.get("pid"),
            schema_before=row.get("schema_before"),
            schema_after=row.get("schema_after"),
            checklist=row.get("checklist"),
        )


@dataclass(frozen=True)
class LockRow:
    """The environment's lock: who holds it, from where, and when it last said so."""

    holder: str  # the lock id: a run id (JupyterLab, papermill) or a sequence id (`up`)
    owner: str
    host: str
    pid: int | None
    acquired_at: str
    heartbeat_at: str | None
    lease_seconds: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LockRow:
        return cls(
            holder=str(row.get("run_id")),
            owner=row.get("owner") or "",
            host=row.get("host") or "",
            pid=row.get("pid"),
            acquired_at=row.get("acquired_at") or row.get("$createdAt") or "",
            heartbeat_at=row.get("heartbeat_at") or row.get("$updatedAt"),
            lease_seconds=row.get("lease_seconds"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.holder,
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "acquired_at": self.acquired_at,
            "heartbeat_at": self.heartbeat_at,
        }


@dataclass(frozen=True)
class VersionState:
    """Where one version stands: the outcome of its latest run."""

    version: str
    state: str  # applied | pending | failed | running | awaiting
    last: RunRecord | None
    applied: RunRecord | None  # the run that applied it, while applied


class Ledger:
    """Rows of the ledger and lock tables; the raw (never dry-run) service on purpose."""

    def __init__(self, tables: TablesDB, database_id: str, environment: str) -> None:
        self.tables = tables
        self.database_id = database_id
        self.environment = environment

    # -- set-up -------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the tables on first use, and add columns a newer Workbook needs."""
        self._ensure_table(
            LEDGER_TABLE,
            "Workbook ledger",
            _LEDGER_COLUMNS,
            [{"key": "by_version", "type": "key", "attributes": ["version"]}],
        )
        self._ensure_table(LOCK_TABLE, "Workbook lock", _LOCK_COLUMNS, [])

    def ensure_backfills(self) -> None:
        """The table of finished backfill chunks (``workbook/runtime/backfill.py``)."""
        self._ensure_table(
            BACKFILL_TABLE,
            "Workbook backfills",
            _BACKFILL_COLUMNS,
            [{"key": "by_backfill", "type": "key", "attributes": ["backfill"]}],
        )

    def _ensure_table(
        self, table_id: str, name: str, columns: list[dict[str, Any]], indexes: list[dict[str, Any]]
    ) -> None:
        try:
            table = self._table(table_id)
        except AppwriteException as exc:
            if exc.code != 404:
                raise
            try:
                self.tables.create_table(
                    self.database_id, table_id, name, columns=columns, indexes=indexes
                )
            except AppwriteException as again:
                if again.code != 409:  # created meanwhile by a concurrent run
                    raise
            return
        have = {c.get("key") for c in table.get("columns") or []}
        for column in columns:
            if column["key"] not in have:
                self._add_column(table_id, column)

    def _table(self, table_id: str) -> dict[str, Any]:
        from workbook.core.paging import raw_get

        return raw_get(self.tables.client, f"/tablesdb/{self.database_id}/tables/{table_id}")

    def _add_column(self, table_id: str, column: dict[str, Any]) -> None:
        """Upgrade a ledger made by an older Workbook (optional columns only: no waiting on
        data). A concurrent upgrade's 409 is as good as ours."""
        method = getattr(self.tables, _CREATE_COLUMN[column["type"]])
        extra = {"size": column["size"]} if "size" in column else {}
        try:
            method(self.database_id, table_id, column["key"], required=False, **extra)
        except AppwriteException as exc:
            if exc.code != 409:
                raise
        import time

        for _ in range(300):  # bounded: 30 s
            found = self._table(table_id)
            status = next(
                (
                    c.get("status")
                    for c in found.get("columns") or []
                    if c.get("key") == column["key"]
                ),
                None,
            )
            if status == "available":
                return
            time.sleep(0.1)
        raise AppwriteException(f"ledger column {column['key']} did not become available", 504)

    def exists(self) -> bool:
        try:
            self.tables.get_table(self.database_id, LEDGER_TABLE)
            return True
        except AppwriteException as exc:
            if exc.code == 404:
                return False
            raise

    def other_tables(self) -> list[str]:
        """The application's tables (not Workbook's): data a missing ledger would hide."""
        from workbook.core.paging import iter_items as items

        path = f"/tablesdb/{self.database_id}/tables"
        return [
            t["$id"]
            for t in items(self.tables.client, path, "tables")
            if t["$id"] not in WORKBOOK_TABLES
        ]

    # -- runs ---------------------------------------------------------------------------
    def create_run(self, run_id: str, data: dict[str, Any]) -> RunRecord:
        row = self.tables.create_row(self.database_id, LEDGER_TABLE, run_id, data)
        return RunRecord.from_row(row_json(row))

    def update_run(self, run_id: str, data: dict[str, Any]) -> None:
        self.tables.update_row(self.database_id, LEDGER_TABLE, run_id, data)

    def get(self, run_id: str) -> RunRecord | None:
        try:
            return RunRecord.from_row(
                row_json(self.tables.get_row(self.database_id, LEDGER_TABLE, run_id))
            )
        except AppwriteException as exc:
            if exc.code == 404:
                return None
            raise

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first (cursor-paged: the ledger grows without bound)."""
        if not self.exists():
            return []
        path = f"/tablesdb/{self.database_id}/tables/{LEDGER_TABLE}/rows"
        rows = iter_items(self.tables.client, path, "rows", [Query.order_asc("$sequence")])
        return [RunRecord.from_row(r) for r in rows]

    def states(self) -> dict[str, VersionState]:
        return version_states(self.runs())

    # -- lock row -----------------------------------------------------------------------
    def create_lock(self, data: dict[str, Any]) -> None:
        """Creating a row with a fixed id is atomic in Appwrite: the loser gets 409."""
        self.tables.create_row(self.database_id, LOCK_TABLE, LOCK_ROW, data)

    def lock_row(self) -> LockRow | None:
        try:
            return LockRow.from_row(
                row_json(self.tables.get_row(self.database_id, LOCK_TABLE, LOCK_ROW))
            )
        except AppwriteException as exc:
            if exc.code == 404:
                return None
            raise

    def touch_lock(self, data: dict[str, Any]) -> None:
        self.tables.update_row(self.database_id, LOCK_TABLE, LOCK_ROW, data)

    def delete_lock(self) -> None:
        try:
            self.tables.delete_row(self.database_id, LOCK_TABLE, LOCK_ROW)
        except AppwriteException as exc:
            if exc.code != 404:
                raise


def version_states(runs: Iterable[RunRecord]) -> dict[str, VersionState]:
    """Fold runs (oldest first) into each version's current state."""
    states: dict[str, VersionState] = {}
    for run in runs:
        key = str(int(run.version))
        before = states.get(key)
        applied = before.applied if before else None
        if run.state in (RunState.APPLIED, RunState.STAMPED):
            applied = run if run.direction == "up" else None
            state = "applied" if run.direction == "up" else "pending"
        elif run.state is RunState.FAILED:
            state = "failed"
        elif run.state is RunState.AWAITING:  # an awaited rollback leaves it applied
            state = "awaiting"
        else:
            state = "running"
        states[key] = VersionState(run.version, state, run, applied)
    return states


def write_mirror(path: Path, states: dict[str, VersionState]) -> None:
    """``history/<env>/applied.json``: the seed's shape plus checksum, run id, archive."""
    applied = []
    for key in sorted(states, key=int):
        run = states[key].applied
        if states[key].state != "applied" or run is None:
            continue
        applied.append(
            {
                "version": run.version,
                "description": run.description,
                "appliedAt": run.finished_at or run.started_at,
                "appliedBy": run.applied_by,
                "checksum": run.checksum,
                "runId": run.run_id,
                "archive": run.archive,
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"applied": applied}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a ledger


def row_json(row: Any) -> dict[str, Any]:
    """A row as plain JSON: the SDK's Row model keeps user columns under ``.data``."""
    if isinstance(row, dict):
        return row
    dumped = row.model_dump(by_alias=True) if hasattr(row, "model_dump") else dict(row)
    data = dumped.pop("data", None) or {}
    return {**data, **{k: v for k, v in dumped.items() if v is not None}}
