"""Appwrite's rule for ids (databases, tables, rows, columns' keys aside), declared once."""

from __future__ import annotations

import re

APPWRITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")
ID_RULE = "up to 36 of a-z, A-Z, 0-9, '.', '-', '_', not starting with a symbol"


def is_appwrite_id(value: object) -> bool:
    """Also what keeps an id from the outside (a backup's table) a safe file name."""
    return isinstance(value, str) and APPWRITE_ID.match(value) is not None
