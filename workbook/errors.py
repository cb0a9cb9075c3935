"""The one root for errors a user can cause, shown by the CLI as one line and a hint."""

from __future__ import annotations

# `workbook up`/`down` exit with this when a run stopped at a checklist gate (ledger state
# `awaiting`): not a failure, a person must confirm a step (README, "Exit codes").
AWAITING_EXIT_CODE = 3


class WorkbookError(Exception):
    """A problem the user can fix: printed without a traceback, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(WorkbookError):
    """An environment is unknown, incomplete or its secret is missing."""


class CatalogError(WorkbookError):
    """The migrations folder holds something that is not a valid migration."""


class ConnectionFailed(WorkbookError):
    """The target could not be reached, or refused our credentials."""


class LockHeld(WorkbookError):
    """Another run holds the environment's lock."""


class OperationFailed(WorkbookError):
    """An `ops` step could not complete (column failed, timed out, ...)."""
