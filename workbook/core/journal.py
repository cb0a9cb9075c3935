"""The run protocol's one owner: a run's states, the lock and its lease, the archive link.

Every way of running a migration goes through a :class:`Journal` — ``workbook up`` (the
CLI process holds the lock, each kernel opens and finishes its run), plain papermill and
JupyterLab (the kernel holds the lock itself), and the settling of a run whose process
died. So the transitions are written in one place:

    open (lock held + ``running`` row) → finish (applied | failed, first word wins)
    → archive attached → lock released

A lock names its holder, host and pid, and carries a heartbeat renewed while the holder
lives. A later run (or ``status``) that finds the heartbeat older than the lease — or, on
the same host, the holder's process gone — settles the dead run as failed and proceeds;
no manual ``unlock`` is needed. Clocks of hosts sharing an environment are assumed to
agree within the lease (NTP), as lease-based lock clients do.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from workbook.core import archive
from workbook.core.catalog import Migration
from workbook.core.client import Target
from workbook.core.config import Workspace
from workbook.core.ledger import (
    ERROR_LIMIT,
    Ledger,
    LockRow,
    RunRecord,
    RunState,
    VersionState,
    now,
    operator,
    parse_time,
    write_mirror,
)
from workbook.errors import LockHeld, WorkbookError
from workbook.secrets import redact

HOST = socket.gethostname()[:128]


class NotAdopted(WorkbookError):
    """The database holds data but no ledger: running migrations would re-apply them."""


class Journal:
    """Everything that changes a run's state in the ledger, for one environment."""

    def __init__(
        self, target: Target, workspace: Workspace, *, operator_name: str | None = None
    ) -> None:
        env = target.environment
        self.target = target
        self.workspace = workspace
        self.environment = env
        self.ledger = Ledger(target.tables, env.database, env.name)
        self.lease = env.bounds().lease
        self.operator = operator_name or operator()
        self.secret_vars = (env.key_env,)

    # -- the environment ------------------------------------------------------------------
    def check_adopted(self) -> None:
        """Refuse to treat a database with data but no ledger as empty: every migration
        would look pending and be applied again over what is there."""
        if self.ledger.exists():
            return
        tables = self.ledger.other_tables()
        if tables:
            env = self.environment
            raise NotAdopted(
                f"database '{env.database}' of '{env.name}' has tables "
                f"({', '.join(tables[:3])}{'…' if len(tables) > 3 else ''}) but no ledger",
                f"run `workbook stamp VERSION --env {env.name}` to adopt it, or restore the "
                "ledger table workbook_ledger",
            )

    def states(self) -> dict[str, VersionState]:
        return self.ledger.states()

    def mirror(self) -> None:
        """``history/<env>/applied.json`` from the ledger, for reviewers."""
        path = self.workspace.history_dir(self.environment.name) / "applied.json"
        write_mirror(path, self.ledger.states())

    # -- the lock -----------------------------------------------------------------------
    def acquire(self, lock_id: str) -> None:
        """Take the environment's lock for ``lock_id``, settling a dead holder first."""
        self.ledger.ensure()
        for _ in range(5):  # bounded: each pass either takes the lock or clears a dead one
            try:
                self.ledger.create_lock(self._lock_data(lock_id))
                return
            except AppwriteException as exc:
                if exc.code != 409:
                    raise
            holder = self.ledger.lock_row()
            if holder is None:
                continue  # released between our create and our read
            if holder.holder == lock_id:
                return  # our own create, whose answer was lost and retried
            reason = self.abandoned(holder)
            if reason is None:
                raise self._held(holder)
            self.settle(holder, reason)
        raise self._held(self.ledger.lock_row())

    def _lock_data(self, lock_id: str) -> dict[str, Any]:
        stamp = now()
        return {
            "run_id": lock_id,
            "owner": self.operator[:128],
            "acquired_at": stamp,
            "heartbeat_at": stamp,
            "host": HOST,
            "pid": os.getpid(),
            "lease_seconds": self.lease,
        }

    def _held(self, holder: LockRow | None) -> LockHeld:
        env = self.environment.name
        if holder is None:
            return LockHeld(f"the lock of '{env}' keeps changing hands", "run again")
        return LockHeld(
            f"environment '{env}' is locked by {holder.owner} on {holder.host or '?'} "
            f"(run {holder.holder}, since {holder.acquired_at}, last heartbeat "
            f"{holder.heartbeat_at})",
            "wait for that run; a dead one is settled once its lease expires "
            f"(or `workbook unlock --env {env}`)",
        )

    def abandoned(self, holder: LockRow) -> str | None:
        """Why ``holder`` is dead, or None while it may be alive."""
        if holder.host == HOST and holder.pid and not _alive(holder.pid):
            return f"its process {holder.pid} on {holder.host} is gone"
        beat = parse_time(holder.heartbeat_at)
        lease = holder.lease_seconds or self.lease
        if beat is not None and (datetime.now(UTC) - beat).total_seconds() > lease:
            return f"no heartbeat since {holder.heartbeat_at}"
        return None

    def holds(self, lock_id: str) -> bool:
        holder = self.ledger.lock_row()
        return holder is not None and holder.holder == lock_id

    def verify(self, lock_id: str) -> None:
        """A kernel under ``workbook up`` runs only while the runner still holds the lock."""
        if not self.holds(lock_id):
            raise LockHeld(
                f"the runner's lock on '{self.environment.name}' was lost",
                "another process settled or broke it; run `workbook up` again",
            )

    def heartbeat(self, lock_id: str) -> bool:
        """Renew the lease; False if the lock is no longer ours."""
        if not self.holds(lock_id):
            return False
        self.ledger.touch_lock({"heartbeat_at": now()})
        return True

    @contextlib.contextmanager
    def keep_alive(self, lock_id: str) -> Iterator[KeepAlive]:
        beat = KeepAlive(self, lock_id)
        beat.start()
        try:
            yield beat
        finally:
            beat.stop()

    def release(self, lock_id: str) -> bool:
        """Drop the lock if ``lock_id`` holds it."""
        if not self.holds(lock_id):
            return False
        self.ledger.delete_lock()
        return True

    def settle_abandoned(self) -> list[RunRecord]:
        """Settle the lock's holder if it is dead (``status`` and every run call this)."""
        if not self.ledger.exists():
            return []
        holder = self.ledger.lock_row()
        reason = self.abandoned(holder) if holder else None
        return self.settle(holder, reason) if holder and reason else []

    def unlock(self) -> LockRow | None:
        """Break the lock whoever holds it (the rare case a live-looking holder is dead)."""
        if not self.ledger.exists():
            return None
        holder = self.ledger.lock_row()
        if holder:
            self.settle(holder, f"its lock was broken by {self.operator}")
        return holder

    def settle(self, holder: LockRow, reason: str) -> list[RunRecord]:
        """The dead holder's ``running`` runs become failed; every run it left gets an
        annotated archive (when the archive is on this host); then its lock is dropped."""
        settled = []
        for record in self.ledger.runs():
            if record.lock_id != holder.holder:
                continue
            if record.state is RunState.RUNNING:
                record = self.finish(record.run_id, RunState.FAILED, error=f"abandoned: {reason}")
                settled.append(record)
            if record.archive and record.host in (None, "", HOST):
                self.annotate(
                    record,
                    {"settled_by": self.operator, "settled_because": reason},
                    only_if_unannotated=True,
                )
        current = self.ledger.lock_row()
        if current is not None and current.holder == holder.holder:
            self.ledger.delete_lock()
        return settled

    # -- runs ---------------------------------------------------------------------------
    def open(
        self,
        run_id: str,
        *,
        lock_id: str,
        migration: Migration,
        direction: str,
        archive_path: str | None,
    ) -> RunRecord:
        """Record the run as ``running`` under the lock ``lock_id`` holds."""
        data = {
            "version": migration.version,
            "description": migration.description[:255],
            "direction": direction,
            "state": RunState.RUNNING.value,
            "checksum": migration.checksum,
            "environment": self.environment.name,
            "applied_by": self.operator[:128],
            "started_at": now(),
            "lock_id": lock_id,
            "migration": migration.name[:128],
            "host": HOST,
            "pid": os.getpid(),
            "archive": archive_path,
            "schema_before": self.schema_marker(),
        }
        try:
            return self.ledger.create_run(run_id, data)
        except AppwriteException as exc:
            if exc.code != 409:
                raise
        existing = self.ledger.get(run_id)
        if existing and existing.lock_id == lock_id and existing.state is RunState.RUNNING:
            return existing  # our own create, retried after a lost answer
        raise WorkbookError(
            f"run id {run_id} is already in the ledger",
            "leave run_id empty so Workbook chooses a new one",
        )

    def finish(self, run_id: str, state: RunState, *, error: str | None = None) -> RunRecord:
        """``running`` → applied/failed/awaiting. The first word wins: a run settled as
        failed by someone else is not revived by a late ``done()``, and the record says so."""
        record = self.ledger.get(run_id)
        if record is None:
            raise WorkbookError(
                f"run {run_id} is not in the ledger of '{self.environment.name}'",
                "see `workbook status`",
            )
        if record.state.terminal:
            return record
        data: dict[str, Any] = {"state": state.value, "finished_at": now()}
        if state is RunState.APPLIED:
            data["schema_after"] = self.schema_marker()
        if error is not None:
            data["error"] = redact(error, self.secret_vars)[:ERROR_LIMIT]
        self.ledger.update_run(run_id, data)
        return self.ledger.get(run_id) or record

    def stamp(self, lock_id: str, migration: Migration) -> RunRecord:
        """Record ``migration`` as applied without running it: the live schema already has
        what it does (a project adopting Workbook). Who and when are kept, like any run."""
        stamp = now()
        data = {
            "version": migration.version,
            "description": migration.description[:255],
            "direction": "up",
            "state": RunState.STAMPED.value,
            "checksum": migration.checksum,
            "environment": self.environment.name,
            "applied_by": self.operator[:128],
            "started_at": stamp,
            "finished_at": stamp,
            "lock_id": lock_id,
            "migration": migration.name[:128],
            "host": HOST,
            "pid": os.getpid(),
            "schema_after": self.schema_marker(),
        }
        return self.ledger.create_run(f"{lock_id[:20]}-{migration.version}-stamp", data)

    def resolve(
        self, lock_id: str, version: str, basis: Migration | RunRecord, *, applied: bool
    ) -> RunRecord:
        """Repair a failed (or wrong) entry by appending a row — history is never edited:
        from now on ``version`` counts as applied (``applied``) or as rolled back. The row is
        ``stamped`` (decided by a person, not run), with who and when, like any run."""
        stamp = now()
        direction = "up" if applied else "down"
        name = basis.name if isinstance(basis, Migration) else basis.migration or version
        data = {
            "version": version,
            "description": basis.description[:255],
            "direction": direction,
            "state": RunState.STAMPED.value,
            "checksum": basis.checksum,
            "environment": self.environment.name,
            "applied_by": self.operator[:128],
            "started_at": stamp,
            "finished_at": stamp,
            "lock_id": lock_id,
            "migration": name[:128],
            "host": HOST,
            "pid": os.getpid(),
            "schema_after": self.schema_marker(),
        }
        run_id = f"{lock_id[:15]}-{lock_id[-4:]}-{version}-resolved"  # ≤ 36: an Appwrite id
        return self.ledger.create_run(run_id, data)

    # -- checklist confirmations ---------------------------------------------------------
    def record_confirmations(self, run_id: str, confirmations: dict[str, dict[str, str]]) -> None:
        """Keep on the run's row which checklist steps a person confirmed, how, by whom and
        when (``{step id: {how, by, at}}``): the ledger is where a tick outlives its kernel."""
        text = json.dumps(confirmations, sort_keys=True)
        self.ledger.update_run(run_id, {"checklist": redact(text, self.secret_vars)})

    def remembered_confirmations(
        self, run_id: str, version: str, direction: str
    ) -> dict[str, dict[str, str]]:
        """Steps confirmed on this run's row, and on the runs of the same migration and
        direction that stopped ``awaiting`` just before it: a step confirmed once need not
        be confirmed again to resume. Any other outcome in between (applied, failed, rolled
        back) ends the chain — a confirmation is for one attempt, not for ever."""
        runs = [r for r in self.ledger.runs() if int(r.version) == int(version)]
        chain: list[RunRecord] = []
        for record in reversed(runs):
            awaited = record.state is RunState.AWAITING and record.direction == direction
            if record.run_id != run_id and not awaited:
                break
            chain.append(record)
        remembered: dict[str, dict[str, str]] = {}
        for record in reversed(chain):  # oldest first: a later word on a step wins
            remembered.update(confirmations_of(record))
        return remembered

    def schema_marker(self) -> str | None:
        """The live schema's fingerprint (Workbook's own tables left out): drift is then one
        pull and a comparison. None if it cannot be read — a marker never fails a run."""
        from workbook.core.schema_diff import live_marker

        try:
            return live_marker(self.target.client, self.environment.database)
        except (AppwriteException, WorkbookError, OSError):
            return None

    def settle_run(self, run_id: str, error: str | None) -> RunRecord | None:
        """After a kernel ended: a run it left ``running`` failed (it died, timed out, or
        never reached ``wb.done()``). None when the notebook never opened its run."""
        record = self.ledger.get(run_id)
        if record is None or record.state.terminal:
            return record
        reason = error or "the notebook ended without calling wb.done()"
        return self.finish(run_id, RunState.FAILED, error=reason)

    def attach_archive(self, run_id: str, archive_path: str) -> None:
        self.ledger.update_run(run_id, {"archive": archive_path})

    def annotate(
        self,
        record: RunRecord,
        extra: dict[str, Any] | None = None,
        *,
        only_if_unannotated: bool = False,
        notebook: dict[str, Any] | None = None,
    ) -> None:
        """Write the archive of ``record`` with the ledger's word on it."""
        if not record.archive:
            return
        path = self.workspace.root / record.archive
        if (
            only_if_unannotated
            and (archive.facts_of(path) or {}).get("status") == record.state.value
        ):
            return
        archive.write(
            path, {**self.facts(record), **(extra or {})}, self.secret_vars, notebook=notebook
        )

    def facts(self, record: RunRecord) -> dict[str, Any]:
        """Provenance of a run, as its archive's ``metadata.workbook`` holds it."""
        env = self.environment
        return {
            "run_id": record.run_id,
            "environment": env.name,
            "endpoint": self.target.endpoint,
            "project": env.project,
            "database": env.database,
            "migration": record.migration or record.version,
            "version": record.version,
            "description": record.description,
            "checksum": record.checksum,
            "direction": record.direction,
            "dry_run": False,
            "status": record.state.value,
            "operator": record.applied_by,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "error": record.error,
            "schema_before": record.schema_before,
            "schema_after": record.schema_after,
            "git_commit": archive.git_commit(self.workspace),
        }


class KeepAlive:
    """A daemon thread renewing the lease while the holder lives (a third of the lease)."""

    def __init__(self, journal: Journal, lock_id: str) -> None:
        self.journal = journal
        self.lock_id = lock_id
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workbook-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        interval = max(self.journal.lease / 3, 0.2)
        while not self._stop.wait(interval):
            try:
                if not self.journal.heartbeat(self.lock_id):
                    self.lost = True
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease has room
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def confirmations_of(record: RunRecord) -> dict[str, dict[str, str]]:
    """The checklist steps a run's row says were confirmed (nothing if unreadable)."""
    try:
        found = json.loads(record.checklist or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, dict)}


def _alive(pid: int) -> bool:
    """Is the process there (and not a zombie waiting to be reaped)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
