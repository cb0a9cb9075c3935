"""The one rule for what counts as a secret, and the redaction every text bound for disk
goes through (archives, ledger errors, plans, logs).

A name is secret when one of its *words* is a secret word (``authToken``, ``db_password``), or
when it ends in the word *key* and is either an environment variable (``STAGING_APPWRITE_KEY``,
all capitals) or names what kind of key (``api_key``, ``access_key``). ``monkey``,
``session_count``, and the schema's ``key`` / ``new_key`` are not secrets. Substring rules got
all three wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

SECRET_WORDS = frozenset(
    {
        "apikey",
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "jwt",
        "cookie",
        "bearer",
        "credential",
        "credentials",
    }
)
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "secret",
        "private",
        "auth",
        "signing",
        "encryption",
        "master",
        "license",
        "client",
        "service",
        "appwrite",
    }
)
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def words(name: str) -> list[str]:
    """``STAGING_APPWRITE_KEY`` → staging, appwrite, key; ``authToken`` → auth, token."""
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    parts = words(name)
    if any(w in SECRET_WORDS for w in parts):
        return True
    if len(parts) < 2 or parts[-1] != "key":
        return False
    return name.isupper() or parts[-2] in KEY_QUALIFIERS


class Secret:
    """A string that never shows itself when printed."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def redact(text: str, also: Iterable[str] = ()) -> str:
    """Remove secret values held in the environment from text bound for disk or output:
    variables named like secrets, and ``also`` (e.g. an environment's ``key_env``)."""
    names = set(also)
    for name, value in os.environ.items():
        if value and len(value) >= MIN_SECRET_LENGTH and (name in names or is_secret_name(name)):
            text = text.replace(value, REDACTED)
    return text
