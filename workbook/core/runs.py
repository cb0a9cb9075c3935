"""Run ids: sortable by time, unique, valid Appwrite row ids."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_run_id(version: str, direction: str, when: datetime | None = None) -> str:
    """Sortable by time, unique, and a valid Appwrite row id (≤ 36 chars)."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{version}-{direction}-{secrets.token_hex(2)}"
