"""Parameter validators answering with utopia's router messages, so errors read like Appwrite's."""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workbook.local.errors import invalid_argument, missing_argument

KEY_DESCRIPTION = (
    "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, "
    "hyphen, and underscore. Can't start with a special char"
)
UID_DESCRIPTION = (
    "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, "
    "hyphen, and underscore. Can't start with a special char"
)
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")
PHP_INT_MAX = 9223372036854775807
PHP_INT_MIN = -9223372036854775807 - 1
PHP_FLOAT_MAX = 1.7976931348623157e308

MISSING: Any = object()


def _given(params: Mapping[str, Any], name: str, default: Any) -> Any:
    """A parameter's value; None (absent or null) only when the route has a `default` for it."""
    value = params.get(name)
    if value is None and default is MISSING:
        raise missing_argument(name)
    return value


def require(params: Mapping[str, Any], name: str) -> Any:
    """A parameter the route declares as not optional (null counts as missing, as in utopia)."""
    return _given(params, name, MISSING)


def is_key(value: object) -> bool:
    return isinstance(value, str) and bool(_KEY_RE.match(value))


def key_param(params: Mapping[str, Any], name: str = "key") -> str:
    """A column or index key: `Key(false, 36)`."""
    value = require(params, name)
    if not is_key(value):
        raise invalid_argument(name, KEY_DESCRIPTION)
    return value


def new_uid() -> str:
    """What `unique()` becomes on the server: a time-ordered 20 hex chars, like uniqid()+padding."""
    return f"{time.time_ns() // 1000:013x}"[-13:] + secrets.token_hex(4)[:7]


def uid_param(params: Mapping[str, Any], name: str) -> str:
    """A CustomId (`databaseId`, `tableId`, `rowId`): a key, or `unique()` for a generated one."""
    value = require(params, name)
    if value == "unique()":
        return new_uid()
    if not is_key(value):
        raise invalid_argument(name, UID_DESCRIPTION)
    return value


def bool_param(params: Mapping[str, Any], name: str, default: Any = MISSING) -> bool:
    """A boolean, also in the 'true'/'false' form the SDK puts in query strings."""
    value = _given(params, name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1):
        return True
    if value in ("false", "0", 0):
        return False
    raise invalid_argument(name, "Value must be a valid boolean")


def text_param(
    params: Mapping[str, Any], name: str, max_len: int = 0, default: Any = MISSING, min_len: int = 0
) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    if not isinstance(value, str) or (max_len and len(value) > max_len) or len(value) < min_len:
        desc = "Value must be a valid string"
        if min_len:
            desc += f" at least {min_len} chars"
        if max_len:
            desc += f" and no longer than {max_len} chars"
        raise invalid_argument(name, desc)
    return value


def int_value(value: object) -> int | None:
    """An integer as JSON or a query string gives it; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def int_param(
    params: Mapping[str, Any],
    name: str,
    default: Any = MISSING,
    lo: int = PHP_INT_MIN,
    hi: int = PHP_INT_MAX,
) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    number = int_value(value)
    if number is None:
        raise invalid_argument(name, "Value must be a valid integer")
    if not lo <= number <= hi:
        raise invalid_argument(name, f"Value must be a valid range between {lo:,} and {hi:,}")
    return number


def float_value(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def float_param(params: Mapping[str, Any], name: str, default: Any = MISSING) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    number = float_value(value)
    if number is None:
        raise invalid_argument(name, "Value must be a valid float")
    return number


def list_param(
    params: Mapping[str, Any], name: str, default: Any = MISSING, max_items: int = 100
) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    if isinstance(value, dict) and all(str(k).isdigit() for k in value):
        value = [value[k] for k in sorted(value, key=int)]
    if not isinstance(value, list) or len(value) > max_items:
        raise invalid_argument(name, f"Value must a valid array no longer than {max_items} items")
    return value


def string_list_param(
    params: Mapping[str, Any],
    name: str,
    default: Any = MISSING,
    max_items: int = 100,
    max_len: int = 0,
) -> Any:
    values = list_param(params, name, default, max_items)
    if values is default:
        return values
    for item in values:
        if not isinstance(item, str) or (max_len and len(item) > max_len):
            limit = f" and no longer than {max_len} chars" if max_len else ""
            raise invalid_argument(
                name,
                f"Value must a valid array no longer than {max_items} items and "
                f"Value must be a valid string{limit}",
            )
    return values


def object_param(params: Mapping[str, Any], name: str, default: Any = MISSING) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise invalid_argument(name, "Value must be a valid JSON string") from None
    if isinstance(value, list) and not value:
        value = {}
    if not isinstance(value, dict):
        raise invalid_argument(name, "Value must be a valid JSON string")
    return value


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


def format_datetime(moment: datetime) -> str:
    """Appwrite's stored form: UTC with milliseconds, which also sorts lexicographically."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Already in the stored form (what the server answers, so what clients send back most).
_STORED_FORM = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def parse_datetime(value: object) -> str | None:
    """Normalize an ISO 8601 string to the stored UTC form; None when it is not a date."""
    if not isinstance(value, str) or not value.strip():
        return None
    if _STORED_FORM.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    text = value.strip().replace(" ", "T", 1) if not _DATE_ONLY.match(value.strip()) else value
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return format_datetime(moment)
    except (OverflowError, ValueError):
        return None


DATETIME_DESCRIPTION = (
    "Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 23:59:59."
)
