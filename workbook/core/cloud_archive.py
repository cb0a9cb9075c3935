"""``backup = "cloud"``: a database archive taken by Appwrite Cloud's Backups service.

On Appwrite Cloud a project can archive one database server-side (the console's "Create
manual backup"), which keeps everything a JSON export cannot: relationships, files of
every type, the exact internal state. The official SDK reaches it as
``Backups.create_archive(services=[tablesdb], resource_id=<database>)``; the archive is
made asynchronously, so Workbook polls ``get_archive`` until it is ``completed`` (or
``failed``), bounded by the environment's cell timeout, before the first migration runs.
Self-hosted Appwrite (and the embedded local server, which answers as it does) has no
Backups service: every ``/v1/backups`` route is ``404 general_route_not_found``. That is
turned into one line that says what to choose instead, before anything is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from appwrite.enums.backup_services import BackupServices
from appwrite.exception import AppwriteException
from appwrite.services.backups import Backups

from workbook.core.client import Target
from workbook.errors import WorkbookError

DONE = "completed"
FAILED = ("failed",)
_NO_SERVICE = ("general_route_not_found", "general_service_disabled")
_INSTEAD = 'use backup = "touched" (Workbook\'s own export) for this environment'


def take_archive(
    target: Target,
    *,
    timeout: float | None = None,
    poll: float = 2.0,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """Archive the environment's database on the server and wait until it is complete;
    returns the archive id. Raises a one-line :class:`WorkbookError` when the endpoint has
    no Backups service, the archive fails, or it is not complete within ``timeout``."""
    env = target.environment
    timeout = timeout if timeout is not None else env.bounds().cell
    service = Backups(target.client)
    try:
        archive = service.create_archive([BackupServices.TABLESDB], resource_id=env.database)
    except AppwriteException as exc:
        raise _refusal(target, exc) from None
    deadline = time.monotonic() + timeout
    status = archive.status
    while status != DONE:
        if status in FAILED:
            raise WorkbookError(
                f"Appwrite Cloud's archive {archive.id} of database '{env.database}' failed",
                "see the project's Backups page in the console; nothing was migrated yet",
            )
        if on_status is not None:
            on_status(status)
        if time.monotonic() >= deadline:
            raise WorkbookError(
                f"Appwrite Cloud's archive {archive.id} of database '{env.database}' is still "
                f"{status or 'pending'} after {timeout:.0f}s",
                "raise cell_timeout for this environment, or run again once the archive is "
                "complete; nothing was migrated yet",
            )
        time.sleep(poll)
        try:
            archive = service.get_archive(archive.id)
        except AppwriteException as exc:
            raise _refusal(target, exc) from None
        status = archive.status
    return archive.id


def _refusal(target: Target, exc: AppwriteException) -> WorkbookError:
    env = target.environment
    where = "the embedded local server" if env.is_local else target.endpoint
    if exc.type in _NO_SERVICE:
        return WorkbookError(
            f'backup = "cloud" needs Appwrite Cloud\'s Backups service; {where} has none '
            f"({exc.code} {exc.type})",
            _INSTEAD,
        )
    return WorkbookError(
        f"Appwrite refused the cloud archive of database '{env.database}': "
        f"{exc.code} {exc.type or ''} {exc.message}".rstrip(),
        f"give the key the backups.read/backups.write scopes, or {_INSTEAD}",
    )
