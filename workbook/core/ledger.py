"""What is applied where: one row per run in a table of the target, like Flyway's history.

Living in the target, the ledger is the same truth for every operator and CI job that
reaches the environment. ``history/<env>/applied.json`` mirrors it for reviewers, in the
seed's shape. Dry runs never write here: they write nothing to the target.
"""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from workbook.core.paging import iter_items
from workbook.errors import LockHeld
from workbook.settings import USER

LEDGER_TABLE = "workbook_ledger"
LOCK_TABLE = "workbook_lock"
LOCK_ROW = "lock"

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
]
_LOCK_COLUMNS: list[dict[str, Any]] = [
    {"key": "run_id", "type": "varchar", "size": 64, "required": True},
    {"key": "owner", "type": "varchar", "size": 128, "required": False},
    {"key": "acquired_at", "type": "datetime", "required": False},
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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
    state: str  # running | applied | failed
    checksum: str
    environment: str
    applied_by: str
    started_at: str
    finished_at: str | None = None
    archive: str | None = None
    error: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        return cls(
            run_id=row["$id"],
            version=row["version"],
            description=row.get("description") or "",
            direction=row["direction"],
            state=row["state"],
            checksum=row.get("checksum") or "",
            environment=row.get("environment") or "",
            applied_by=row.get("applied_by") or "",
            started_at=row.get("started_at") or row.get("$createdAt") or "",
            finished_at=row.get("finished_at"),
            archive=row.get("archive"),
            error=row.get("error"),
        )


@dataclass(frozen=True)
class VersionState:
    """Where one version stands: the outcome of its latest run."""

    version: str
    state: str  # applied | pending | failed | running
    last: RunRecord | None
    applied: RunRecord | None  # the run that applied it, while applied


class Ledger:
    """Reads and writes run records; the raw (never dry-run) service is used on purpose."""

    def __init__(self, tables: TablesDB, database_id: str, environment: str) -> None:
        self.tables = tables
        self.database_id = database_id
        self.environment = environment

    # -- set-up -------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the ledger and lock tables on first use (inline columns: no waiting)."""
        self._ensure_table(
            LEDGER_TABLE,
            "Workbook ledger",
            _LEDGER_COLUMNS,
            [{"key": "by_version", "type": "key", "attributes": ["version"]}],
        )
        self._ensure_table(LOCK_TABLE, "Workbook lock", _LOCK_COLUMNS, [])

    def _ensure_table(
        self, table_id: str, name: str, columns: list[dict[str, Any]], indexes: list[dict[str, Any]]
    ) -> None:
        try:
            self.tables.get_table(self.database_id, table_id)
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

    def exists(self) -> bool:
        try:
            self.tables.get_table(self.database_id, LEDGER_TABLE)
            return True
        except AppwriteException as exc:
            if exc.code == 404:
                return False
            raise

    # -- runs ---------------------------------------------------------------------------
    def start(
        self,
        run_id: str,
        *,
        version: str,
        description: str,
        direction: str,
        checksum: str,
        applied_by: str,
    ) -> RunRecord:
        data = {
            "version": version,
            "description": description[:255],
            "direction": direction,
            "state": "running",
            "checksum": checksum,
            "environment": self.environment,
            "applied_by": applied_by[:128],
            "started_at": now(),
        }
        row = self.tables.create_row(self.database_id, LEDGER_TABLE, run_id, data)
        return RunRecord.from_row(_row_json(row))

    def finish(
        self, run_id: str, state: str, *, error: str | None = None, archive: str | None = None
    ) -> None:
        data: dict[str, Any] = {"state": state, "finished_at": now()}
        if error is not None:
            data["error"] = error[:10000]
        if archive is not None:
            data["archive"] = archive
        self.tables.update_row(self.database_id, LEDGER_TABLE, run_id, data)

    def set_archive(self, run_id: str, archive: str) -> None:
        self.tables.update_row(self.database_id, LEDGER_TABLE, run_id, {"archive": archive})

    def get(self, run_id: str) -> RunRecord | None:
        try:
            return RunRecord.from_row(
                _row_json(self.tables.get_row(self.database_id, LEDGER_TABLE, run_id))
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

    # -- lock ---------------------------------------------------------------------------
    def acquire(self, run_id: str, owner: str) -> bool:
        """Take the environment's lock; True if newly taken, False if this run holds it.

        Creating a row with a fixed id is atomic in Appwrite: the loser gets 409.
        """
        try:
            self.tables.create_row(
                self.database_id,
                LOCK_TABLE,
                LOCK_ROW,
                {"run_id": run_id, "owner": owner[:128], "acquired_at": now()},
            )
            return True
        except AppwriteException as exc:
            if exc.code != 409:
                raise
        holder = self.lock_holder()
        if holder and holder.get("run_id") == run_id:
            return False
        if holder is None:  # released between our create and our read: try once more
            return self.acquire(run_id, owner)
        raise LockHeld(
            f"environment '{self.environment}' is locked by {holder.get('owner')} "
            f"(run {holder.get('run_id')}, since {holder.get('acquired_at')})",
            f"wait for that run; if it died, run `workbook unlock --env {self.environment}`",
        )

    def lock_holder(self) -> dict[str, Any] | None:
        try:
            return _row_json(self.tables.get_row(self.database_id, LOCK_TABLE, LOCK_ROW))
        except AppwriteException as exc:
            if exc.code == 404:
                return None
            raise

    def release(self, run_id: str | None = None) -> bool:
        """Drop the lock (only if ``run_id`` holds it, when given)."""
        holder = self.lock_holder()
        if holder is None or (run_id is not None and holder.get("run_id") != run_id):
            return False
        try:
            self.tables.delete_row(self.database_id, LOCK_TABLE, LOCK_ROW)
        except AppwriteException as exc:
            if exc.code != 404:
                raise
        return True


def version_states(runs: Iterable[RunRecord]) -> dict[str, VersionState]:
    """Fold runs (oldest first) into each version's current state."""
    states: dict[str, VersionState] = {}
    for run in runs:
        key = str(int(run.version))
        before = states.get(key)
        applied = before.applied if before else None
        if run.state == "applied":
            applied = run if run.direction == "up" else None
            state = "applied" if run.direction == "up" else "pending"
        elif run.state == "failed":
            state = "failed"
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


def _row_json(row: Any) -> dict[str, Any]:
    """A row as plain JSON: the SDK's Row model keeps user columns under ``.data``."""
    if isinstance(row, dict):
        return row
    dumped = row.model_dump(by_alias=True) if hasattr(row, "model_dump") else dict(row)
    data = dumped.pop("data", None) or {}
    return {**data, **{k: v for k, v in dumped.items() if v is not None}}


__all__ = ["Ledger", "RunRecord", "VersionState", "operator", "version_states", "write_mirror"]
