"""Targeted backups: each table is backed up just before the first write that could lose data.

Why here and not from a dry-run plan. A plan is a second run of every notebook before the
real one (a kernel each, and data-dependent steps such as a backfill's ``fn`` can only be
guessed), and it can still be wrong when the data changes between plan and run. The kernel
itself knows exactly, at the moment it happens, that a write will delete or rewrite a
table's data: every such write goes through one object, the SDK service the notebook and
``ops`` share. So that service is wrapped (:class:`BackupGuard`, as ``DryRunProxy`` wraps it
for dry runs) and, before the first destructive write to a table — ``delete_table``,
``delete_column`` (a recreated column is a delete then a create), ``update_row(s)``,
``upsert_row(s)``, ``delete_row(s)``, ``increment``/``decrement``, and raw ``client.call``
DELETE/PATCH/PUT under a table — the table is exported whole into the sequence's backup
folder. The folder is ``history/<env>/backups/<lock id>-before-<version>/``, found again by
the later migrations of the sequence through the lock id they all share; its manifest lists
what it holds, so a table is backed up once per sequence, before the first migration that
touches it, and a table no migration touches costs nothing.

Per environment ``backup`` chooses: ``touched`` (the default, as above), ``all`` (the whole
database once per sequence, taken by the runner before the first migration), ``none`` (a
destructive write is refused unless the run was started with ``--no-backup``, so turning
backups off is always a decision made per run), ``cloud`` (a database archive by Appwrite
Cloud's Backups service, ``workbook/core/cloud_archive.py``: taken by the runner before the
first migration, or by a kernel running alone when it starts; where the service is missing
the run stops with one line before anything is written). The refusal of ``none`` happens
before the write, inside the migration: the steps before it have run and, being
idempotent, run again harmlessly once the run is restarted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException

from workbook.core import archive
from workbook.core.backup import (
    backups_dir,
    cloud_archive_of,
    declined,
    export_tables,
    read_manifest_if_any,
    record_cloud_archive,
    sequence_folder,
)
from workbook.core.client import Target
from workbook.core.cloud_archive import take_archive
from workbook.core.config import Workspace
from workbook.core.progress import summed
from workbook.errors import WorkbookError
from workbook.runtime.intercept import SEND, InterceptedClient
from workbook.runtime.progress import Progress
from workbook.settings import RUN_LOCK

DESTRUCTIVE = frozenset(
    {
        "delete_table",
        "delete_column",
        "delete_row",
        "delete_rows",
        "update_row",
        "update_rows",
        "upsert_row",
        "upsert_rows",
        "increment_row_column",
        "decrement_row_column",
    }
)
_OWN_PREFIX = "workbook_"
_RAW_TABLE = re.compile(r"^/tablesdb/(?P<db>[^/]+)/tables/(?P<table>[^/]+)(?P<rest>/.*)?$")


class TableBackups:
    """What one run has backed up, and the rule for what it must back up next."""

    def __init__(
        self,
        target: Target,
        workspace: Workspace,
        *,
        lock_id: str,
        version: str,
        declined: bool = False,
    ) -> None:
        self.target = target
        self.workspace = workspace
        self.environment = target.environment
        self.mode = self.environment.backup
        self.lock_id = lock_id
        self.version = version
        self.declined = declined
        self._done: set[str] = set()

    @classmethod
    def for_run(
        cls, target: Target, workspace: Workspace, run_id: str, version: str
    ) -> TableBackups:
        """Under ``workbook up`` the sequence's lock names the folder; a kernel running alone
        uses its own run id."""
        lock_id = RUN_LOCK.get() or run_id
        off = declined(backups_dir(workspace, target.environment.name), lock_id)
        return cls(target, workspace, lock_id=lock_id, version=version, declined=off)

    @property
    def folder(self) -> Path:
        root = backups_dir(self.workspace, self.environment.name)
        return sequence_folder(root, self.lock_id, self.version)

    def start(self) -> None:
        """``backup = "all"`` or ``"cloud"`` for a kernel running alone: everything, before
        anything runs."""
        if self.declined:
            return
        if self.mode == "all":
            self._export(None, "the run starts")
        elif self.mode == "cloud":
            self.take_cloud_archive()

    def take_cloud_archive(self) -> Path:
        """Appwrite Cloud's archive of the database, unless the sequence has one already
        (``workbook up`` takes it before the first migration)."""
        root = backups_dir(self.workspace, self.environment.name)
        mark = cloud_archive_of(root, self.lock_id)
        if mark is None:
            archive_id = take_archive(self.target)
            mark = record_cloud_archive(root, self.lock_id, archive_id, self.environment.database)
            print(f"Appwrite Cloud archive {archive_id} of {self.environment.database} taken")
        return mark

    def before_write(self, table_id: str, operation: str, database: str | None = None) -> None:
        """Called before a write that can lose data of ``table_id``; backs it up if this
        sequence has not, or refuses the write when backups are off and not declined."""
        if database not in (None, self.environment.database):
            return  # another database: not this environment's data
        if table_id in self._done or table_id.startswith(_OWN_PREFIX) or self.declined:
            return
        if self.mode == "none":
            raise WorkbookError(
                f"{operation} would delete or rewrite data of table {table_id}, and environment "
                f"'{self.environment.name}' has backup = \"none\"",
                "run it with --no-backup to go ahead without a backup, or set "
                'backup = "touched" in workbook.toml',
            )
        if self.mode == "cloud":
            self.take_cloud_archive()  # the whole database, once per sequence
            return
        manifest = read_manifest_if_any(self.folder) or {}
        held = {t.get("$id") for t in manifest.get("tables", [])}
        if table_id not in held and self._exists(table_id):
            self._export([table_id], operation)
        self._done.add(table_id)

    def _exists(self, table_id: str) -> bool:
        try:
            self.target.tables.get_table(self.environment.database, table_id)
        except AppwriteException as exc:
            if exc.code == 404:
                return False
            raise
        return True

    def _export(self, only: list[str] | None, reason: str) -> None:
        folder = self.folder
        with Progress(f"backup before {reason}", "rows") as shown:  # a bar, or plain lines
            counts = export_tables(
                self.target,
                folder,
                only,
                incremental=True,
                on_progress=summed(shown.set),
                run=self.lock_id,
                before=self.version,
            )
        self._done.update(counts)
        rel = archive.relative(self.workspace, folder)
        for table_id, rows in counts.items():
            print(f"backed up {table_id} ({rows} row(s)) before {reason}: {rel}")


class GuardedClient(InterceptedClient):
    """The SDK client, raw calls included, with destructive requests backed up first."""

    def __init__(self, client: Any, backups: TableBackups) -> None:
        super().__init__(client)
        self._backups = backups

    def before_call(self, verb: str, path: str, params: dict[str, Any]) -> bool:
        found = _RAW_TABLE.match(path.removeprefix("/v1"))
        rest = (found["rest"] or "") if found else ""
        if found and verb in ("DELETE", "PATCH", "PUT") and not rest.startswith("/indexes"):
            self._backups.before_write(found["table"], f"{verb} {path}", found["db"])
        return SEND


class BackupGuard:
    """An SDK service whose data-losing writes back their table up first (see module doc)."""

    def __init__(self, service: Any, backups: TableBackups) -> None:
        self._service = service
        self.backups = backups
        self.client = GuardedClient(service.client, backups)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._service, name)
        if name not in DESTRUCTIVE or not callable(attr):
            return attr

        def guarded(*args: Any, **kwargs: Any) -> Any:
            database = kwargs.get("database_id", args[0] if args else None)
            table_id = kwargs.get("table_id", args[1] if len(args) > 1 else None)
            if isinstance(table_id, str):
                self.backups.before_write(table_id, name, database)
            return attr(*args, **kwargs)

        guarded.__name__ = name
        guarded.__doc__ = attr.__doc__
        return guarded

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._service)) | {"backups", "client"})

    def __repr__(self) -> str:
        return f"BackupGuard({type(self._service).__name__})"
