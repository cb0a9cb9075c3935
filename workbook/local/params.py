"""Parameter validators answering with utopia's router messages, so errors read like Appwrite's."""

from __future__ import annotations

import decimal
import math
import re
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def php_number_format(value: float) -> str:
    """PHP's number_format($value): rounded half away from zero, thousands separated by commas
    (utopia's Range and Integer validators word their bounds with it)."""
    whole = decimal.Decimal(value).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
    return f"{int(whole):,}"


def range_description(lo: float, hi: float) -> str:
    """utopia's Range validator description."""
    low, high = php_number_format(lo), php_number_format(hi)
    return f"Value must be a valid range between {low} and {high}"


def integer_description(bits: int = 32) -> str:
    """utopia-php/validators' Integer description (signed; `new Integer()` is 32-bit)."""
    top = 2 ** (bits - 1)
    return (
        f"Value must be a valid signed {bits}-bit integer between "
        f"{php_number_format(-top)} and {php_number_format(top - 1)}"
    )


def int_param(
    params: Mapping[str, Any],
    name: str,
    default: Any = MISSING,
    lo: int = PHP_INT_MIN,
    hi: int = PHP_INT_MAX,
    description: str | None = None,
) -> Any:
    """An integer parameter; `description` words every refusal when the route's validator is
    utopia's Integer (not a Range)."""
    value = _given(params, name, default)
    if value is None:
        return default
    number = int_value(value)
    if number is None:
        raise invalid_argument(name, description or "Value must be a valid integer")
    if not lo <= number <= hi:
        raise invalid_argument(name, description or range_description(lo, hi))
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


def float_param(
    params: Mapping[str, Any], name: str, default: Any = MISSING, description: str | None = None
) -> Any:
    value = _given(params, name, default)
    if value is None:
        return default
    number = float_value(value)
    if number is None:
        raise invalid_argument(name, description or "Value must be a valid float")
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


# The timestamp row writes take instead of now: a committing transaction's staging time.
REQUEST_TIME: ContextVar[str | None] = ContextVar("REQUEST_TIME", default=None)


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


def format_datetime(moment: datetime) -> str:
    """Appwrite's stored form: UTC with milliseconds, which also sorts lexicographically."""
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}+00:00"
    )


# Already in the stored form (what the server answers, so what clients send back most).
_STORED_FORM = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


# PHP's DateTime (what utopia's Datetime validator constructs) reads a date, an optional time
# after `T` or spaces, and an optional zone: `Z`, an offset (`+02`, `+0200`, `+02:00`, after
# `GMT`/`UTC` too), an abbreviation or a tz database name (`America/New_York`). Fields roll over
# as PHP's do (`2024-02-30` is March 1st); a time without a zone is UTC (Appwrite's default).
_PHP_DATETIME = re.compile(
    r"(?P<y>\d{4})(?P<ds>[-/])(?P<mo>\d{1,2})(?P=ds)(?P<d>\d{1,2})"
    r"(?:(?:[Tt]|\s+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<zone>.*?)\s*"
)
_OFFSET = re.compile(r"(?:(?:GMT|UTC)\s*)?(?P<sign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?", re.I)
_ABBREVIATIONS = {
    "z": 0, "utc": 0, "gmt": 0, "ut": 0, "wet": 0, "west": 60, "bst": 60, "cet": 60, "cest": 120,
    "met": 60, "mest": 120, "eet": 120, "eest": 180, "msk": 180, "ist": 330, "jst": 540,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480,
    "pdt": -420, "akst": -540, "akdt": -480, "hst": -600, "aest": 600, "aedt": 660,
}  # fmt: skip
_RELATIVE_DAYS = {"now": None, "today": 0, "midnight": 0, "tomorrow": 1, "yesterday": -1}


def _zone(text: str) -> tzinfo | None:
    """The zone PHP reads from the text after a date-time; None when it reads none."""
    if not text:
        return UTC
    offset = _OFFSET.fullmatch(text)
    if offset:
        hours, minutes = int(offset["oh"]), int(offset["om"] or 0)
        if hours > 99 or minutes > 59:
            return None
        sign = -1 if offset["sign"] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    minutes = _ABBREVIATIONS.get(text.lower())
    if minutes is not None:
        return timezone(timedelta(minutes=minutes))
    if "/" in text or text.isalpha():
        try:
            return ZoneInfo(text)
        except (ValueError, ZoneInfoNotFoundError):
            return None
    return None


def _php_datetime(text: str) -> datetime | None:
    """The moment PHP's `new DateTime($text)` gives (the forms migrations meet), or None."""
    word = text.lower()
    if word in _RELATIVE_DAYS:
        now = datetime.now(UTC)
        days = _RELATIVE_DAYS[word]
        if days is None:
            return now
        return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
    if text[:1] == "@":
        try:
            return datetime.fromtimestamp(float(text[1:]), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    found = _PHP_DATETIME.fullmatch(text)
    if not found:
        return None
    zone = _zone(found["zone"])
    month, day = int(found["mo"]), int(found["d"])
    hour, minute = int(found["h"] or 0), int(found["mi"] or 0)
    second = int(found["s"] or 0)
    if zone is None or not (1 <= month <= 12 and 0 <= day <= 31):
        return None
    if hour > 24 or minute > 59 or second > 60:
        return None
    micro = int((found["f"] or "0")[:6].ljust(6, "0"))
    try:
        base = datetime(int(found["y"]), month, 1, tzinfo=zone)
    except ValueError:
        return None
    shift = timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second, microseconds=micro)
    try:
        if isinstance(zone, ZoneInfo):
            # Wall-clock arithmetic in the named zone (its offset on that day), as PHP does.
            naive = base.replace(tzinfo=None) + shift
            return naive.replace(tzinfo=zone)
        return base + shift
    except OverflowError:
        return None


def parse_datetime(value: object) -> str | None:
    """A datetime as Appwrite's validator accepts it (PHP DateTime's forms), in the stored UTC
    form with milliseconds; None when it is not one."""
    if not isinstance(value, str):
        return None
    if _STORED_FORM.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value
    text = value.strip()
    if not text:
        return None
    moment = _php_datetime(text)
    if moment is None:
        return None
    try:
        return format_datetime(moment)
    except (OverflowError, ValueError):
        return None


DATETIME_DESCRIPTION = (
    "Value must be valid date between 0000-01-01 00:00:00 and 9999-12-31 23:59:59."
)
