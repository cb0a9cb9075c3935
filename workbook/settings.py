"""Every ``WORKBOOK_*`` variable, declared once: its name, what it does, who reads it.

The README's table of variables is checked against :data:`VARIABLES` by a test, so a new
variable is documented where it is declared. Precedence is one rule everywhere:
flag > ``WORKBOOK_*`` variable > ``workbook.toml`` > built-in default.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from workbook.errors import ConfigError
from workbook.local.variables import EXTRA_KEYS_ENV, KEY_ENV


@dataclass(frozen=True)
class Variable:
    name: str
    doc: str
    internal: bool = False  # set by Workbook for its kernels, not by users

    def get(self) -> str | None:
        value = os.environ.get(self.name, "").strip()
        return value or None

    def seconds(self) -> float | None:
        """A positive number of seconds, or None when unset; bad values are refused."""
        raw = self.get()
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value <= 0:
            raise ConfigError(
                f"${self.name}={raw!r} is not a positive number of seconds",
                f"set it like {self.name}=30, or unset it",
            )
        return value


ENV = Variable("WORKBOOK_ENV", "environment used when no --env is given (default: local)")
WORKSPACE = Variable(
    "WORKBOOK_WORKSPACE", "workspace folder; kernels started anywhere find the same one"
)
USER = Variable(
    "WORKBOOK_USER",
    "who runs: recorded in the ledger and archives (default: git user.name, else the OS user)",
)
DEBUG = Variable("WORKBOOK_DEBUG", "show tracebacks instead of one-line errors")
HTTP_TIMEOUT = Variable(
    "WORKBOOK_HTTP_TIMEOUT", "seconds a request to Appwrite may take (overrides http_timeout)"
)
CELL_TIMEOUT = Variable(
    "WORKBOOK_CELL_TIMEOUT", "seconds a migration cell may run (overrides cell_timeout)"
)
LEASE_SECONDS = Variable(
    "WORKBOOK_LEASE_SECONDS",
    "seconds without a heartbeat after which a run's lock is abandoned (overrides lease_seconds)",
)
SAVE_TIMEOUT = Variable(
    "WORKBOOK_SAVE_TIMEOUT",
    "seconds wb.done() waits for JupyterLab to save the notebook it archives (default 20)",
)
LOCAL_KEY = Variable(KEY_ENV, "API key of the embedded server (generated when unset)")
LOCAL_ENDPOINT = Variable(
    "WORKBOOK_LOCAL_ENDPOINT", "a running `workbook local serve` for kernels to use"
)
LOCAL_EXTRA_KEYS = Variable(
    EXTRA_KEYS_ENV, "extra scoped keys of the embedded server (JSON; tests)"
)
PREWARM = Variable(
    "WORKBOOK_PREWARM",
    "0 to start each migration's kernel only when it runs (default: the next one is warmed)",
)
BACKUP_KEEP = Variable(
    "WORKBOOK_BACKUP_KEEP",
    "how many complete backups per environment to keep; older ones are pruned (default: all)",
)
BACKUP_RESERVE = Variable(
    "WORKBOOK_BACKUP_RESERVE",
    "MiB of disk a backup must leave free, or the run stops before it starts (default 100)",
)
PROGRESS_INTERVAL = Variable(
    "WORKBOOK_PROGRESS_INTERVAL",
    "seconds between two plain progress lines where no bar is drawn (default 2)",
)
REPLAY_CACHE = Variable(
    "WORKBOOK_REPLAY_CACHE",
    "folder of replayed schemas (default .workbook/replay/); shareable between workspaces and "
    "CI jobs, since entries are keyed by the migrations' cumulative checksum",
)
BATCH = Variable("WORKBOOK_BATCH", "set by the runner: the kernel runs unattended", internal=True)
RUN_LOCK = Variable(
    "WORKBOOK_RUN_LOCK", "set by the runner: the lock its sequence holds", internal=True
)
DRY_RUN_STATE = Variable(
    "WORKBOOK_DRY_RUN_STATE",
    "set by the runner: a file with what earlier dry runs of the sequence would change",
    internal=True,
)

VARIABLES: tuple[Variable, ...] = (
    ENV,
    WORKSPACE,
    USER,
    DEBUG,
    HTTP_TIMEOUT,
    CELL_TIMEOUT,
    LEASE_SECONDS,
    SAVE_TIMEOUT,
    LOCAL_KEY,
    LOCAL_ENDPOINT,
    LOCAL_EXTRA_KEYS,
    PREWARM,
    BACKUP_KEEP,
    BACKUP_RESERVE,
    PROGRESS_INTERVAL,
    REPLAY_CACHE,
    BATCH,
    RUN_LOCK,
    DRY_RUN_STATE,
)


@contextlib.contextmanager
def scoped_environ(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None/empty, unset) variables for a block; restore them afterwards.
    Kernels inherit the process environment, so this is how a run talks to them."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
