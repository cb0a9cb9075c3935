"""Facts shared by the runner (CLI process) and the session (kernel): run ids, variables,
and the redaction every text bound for disk goes through. Kept free of heavy imports."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

BATCH_ENV = "WORKBOOK_BATCH"
RUNNER_LOCK_ENV = "WORKBOOK_RUNNER_LOCK"
DRY_RUN_STATE_ENV = "WORKBOOK_DRY_RUN_STATE"  # a file: what earlier dry runs would change


def new_run_id(version: str, direction: str, when: datetime | None = None) -> str:
    """Sortable by time, unique, and a valid Appwrite row id (≤ 36 chars)."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{version}-{direction}-{secrets.token_hex(2)}"


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


def redact(text: str, also: Iterable[str] = ()) -> str:
    """Remove secret values held in the environment from text bound for disk or output:
    variables named like secrets, and ``also`` (e.g. an environment's ``key_env``)."""
    names = set(also)
    for name, value in os.environ.items():
        if value and len(value) >= 8 and (name in names or _secret_name(name)):
            text = text.replace(value, "[redacted]")
    return text


def _secret_name(name: str) -> bool:
    upper = name.upper()
    return upper.endswith(("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")) or "SECRET" in upper
