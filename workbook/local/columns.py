"""Column definitions: what each Appwrite column type accepts, stores, answers and how wide it is.

A definition is a plain JSON-able dict (kept whole in the metadata table) with Appwrite's own
field names: key, type, required, array, size, default, format, elements, min, max, encrypt.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from workbook.local.errors import (
    AppwriteError,
    appwrite_error,
    bad_request,
    invalid_argument,
    missing_argument,
)
from workbook.local.params import (
    DATETIME_DESCRIPTION,
    PHP_FLOAT_MAX,
    PHP_INT_MAX,
    PHP_INT_MIN,
    bool_param,
    float_param,
    float_value,
    int_param,
    integer_description,
    key_param,
    parse_datetime,
    range_description,
    string_list_param,
    text_param,
)

Column = dict[str, Any]

STRING_TYPES = ("string", "varchar", "text", "mediumtext", "longtext")
TEXT_SIZES = {"text": 65535, "mediumtext": 16777215, "longtext": 2147483647}
FORMAT_SIZES = {"email": 254, "url": 2000, "ip": 39, "enum": 255}
# Path segments of `POST …/columns/<type>` that we build; spatial and relationship are refused.
CREATABLE = (
    *STRING_TYPES,
    "integer",
    "bigint",
    "float",
    "boolean",
    "datetime",
    *FORMAT_SIZES,
    "point",
    "line",
    "polygon",
)
# The closest Appwrite answer for types the SQLite store does not model: spatial columns get
# Appwrite's own "adapter does not support spatial" error, relationships a plain bad request.
SPATIAL = ("point", "line", "linestring", "polygon")
SPATIAL_TYPES = {"point": "point", "line": "linestring", "polygon": "polygon"}  # path → stored
ROW_WIDTH_BASE = 1067
ROW_WIDTH_LIMIT = 65535
MAX_COLUMNS = 1010
MAX_VARCHAR = 16381
MAX_STRING = 1073741824


def unsupported_type(kind: str) -> AppwriteError:
    if kind == "relationship":
        return invalid_argument(
            "type", "Relationship columns are not supported by the local server."
        )
    return invalid_argument("type", f"Invalid type for column: {kind}")


def sql_affinity(column: Column) -> str:
    """The SQLite column type: arrays and texts as TEXT, numbers by their kind."""
    if column.get("array"):
        return "TEXT"
    kind = column["type"]
    if kind in ("integer", "bigint", "boolean"):
        return "INTEGER"
    if kind == "double":
        return "REAL"
    return "TEXT"


def column_width(column: Column) -> int:
    """One column's share of Appwrite's row-width estimate (reference §3)."""
    kind = column["type"]
    if column.get("array") or kind in ("text", "mediumtext", "longtext"):
        return 20
    if kind in ("string", "varchar"):
        size = int(column.get("size") or 0)
        if size > MAX_VARCHAR:
            return 20
        return 4 * size + (1 if size <= 255 else 2)
    if kind == "integer":
        return 8 if column.get("size") == 8 else 4
    if kind in ("bigint", "double"):
        return 8
    if kind == "boolean":
        return 1
    if kind == "datetime":
        return 7
    if kind == "relationship":
        return 1021
    if kind == "point":
        return 25
    return 20


def row_width(columns: list[Column]) -> int:
    """Appwrite's row-width estimate over column dicts in its response shape; ``workbook
    lint`` (LM103) reads the same rule from here."""
    return ROW_WIDTH_BASE + sum(column_width(c) for c in columns)


def _default_error(message: str) -> AppwriteError:
    return bad_request("column_value_invalid", message)


def _check_required_default(required: bool, array: bool, default: Any) -> None:
    if default is None:
        return
    if required:
        raise bad_request(
            "column_default_unsupported", "Cannot set default value for required column"
        )
    if array:
        raise bad_request(
            "column_default_unsupported", "Cannot set default value for array columns"
        )


def _range_description(lo: float, hi: float, kind: str) -> str:
    return range_description(lo, hi)


def _numeric(kind: str, params: Mapping[str, Any], old: Column | None) -> Column:
    """integer, bigint and float share bounds handling; float is stored as `double`."""
    is_float = kind == "float"
    top = PHP_FLOAT_MAX if is_float else PHP_INT_MAX
    bottom = -PHP_FLOAT_MAX if is_float else PHP_INT_MIN
    # The routes' validators: Nullable(FloatValidator) and Nullable(Integer(false, 64)).
    if is_float:
        description = "Value must be a valid float or null"

        def read(p: Mapping[str, Any], name: str, default: Any) -> Any:
            return float_param(p, name, default=default, description=description)
    else:
        description = integer_description(64) + " or null"

        def read(p: Mapping[str, Any], name: str, default: Any) -> Any:
            return int_param(p, name, default=default, description=description)

    lo = read(params, "min", default=None)
    hi = read(params, "max", default=None)
    default = read(params, "default", default=None)
    if lo is None:
        lo = old["min"] if old else bottom
    if hi is None:
        hi = old["max"] if old else top
    if lo > hi:
        raise _default_error("Minimum value must be lesser than maximum value")
    stored = "double" if is_float else kind
    if default is not None and not lo <= default <= hi:
        raise _default_error(_range_description(lo, hi, stored))
    column: Column = {"type": stored, "min": lo, "max": hi, "default": default}
    if kind == "integer":
        column["size"] = 8 if hi > 2147483647 else 4
        column["format"] = "intRange"
        column["signed"] = True
    elif kind == "bigint":
        column["size"] = 8
        column["format"] = "bigintRange"
        column["signed"] = True
    else:
        column["format"] = "floatRange"
        column["signed"] = True
    return column


def _string(kind: str, params: Mapping[str, Any], old: Column | None) -> Column:
    encrypt = bool_param(params, "encrypt", default=old.get("encrypt", False) if old else False)
    if kind in TEXT_SIZES:
        size = TEXT_SIZES[kind]
    else:
        limit = MAX_VARCHAR if kind == "varchar" else MAX_STRING
        size = int_param(params, "size", lo=1, hi=limit, default=old["size"] if old else None)
        if size is None:
            raise invalid_argument("size", f"Value must be a valid range between 1 and {limit:,}")
    default = text_param(params, "default", default=None)
    if encrypt and size < 150:
        raise bad_request(
            "general_bad_request",
            "Size too small. Encrypted strings require a minimum size of 150 characters.",
        )
    if default is not None and len(default) > size:
        raise _default_error(f"Value must be a valid string and no longer than {size} chars")
    return {"type": kind, "size": size, "default": default, "encrypt": encrypt}


def _format(kind: str, params: Mapping[str, Any], old: Column | None) -> Column:
    column: Column = {"type": "string", "format": kind, "size": FORMAT_SIZES[kind]}
    if kind == "enum":
        elements = string_list_param(params, "elements", max_items=100, max_len=255)
        if old is not None and not elements:
            raise _default_error("Enum elements must not be empty")
        if old is not None and any(e == "" for e in elements):
            raise _default_error("Each enum element must not be empty")
        if not elements or any(e == "" for e in elements):
            raise invalid_argument(
                "elements",
                "Value must a valid array no longer than 100 items and Value must be a valid "
                "string at least 1 chars and no longer than 255 chars",
            )
        column["elements"] = list(dict.fromkeys(elements))
    default = params.get("default")
    if default is not None:
        problem = value_problem({**column, "array": False}, default)
        if problem:
            if kind == "enum":
                raise _default_error("Default value not found in elements")
            raise invalid_argument("default", problem)
    column["default"] = default
    return column


def _boolean(params: Mapping[str, Any], old: Column | None) -> Column:
    return {"type": "boolean", "default": bool_param(params, "default", default=None)}


def _datetime(params: Mapping[str, Any], old: Column | None) -> Column:
    default = params.get("default")
    if default is not None:
        default = parse_datetime(default)
        if default is None:
            raise invalid_argument("default", DATETIME_DESCRIPTION)
    return {"type": "datetime", "format": "datetime", "default": default}


def build_column(kind: str, params: Mapping[str, Any], *, inline: bool = False) -> Column:
    """Validate a create request for `POST …/columns/<kind>` and return the stored definition."""
    if kind not in CREATABLE:
        raise unsupported_type(kind)
    key = key_param(params, "key")
    required = bool_param(params, "required")
    array = False if kind in SPATIAL_TYPES else bool_param(params, "array", default=False)
    column = _typed(kind, params, None)
    _check_required_default(required, array, column.get("default"))
    return {"key": key, "required": required, "array": array, **column}


def _typed(kind: str, params: Mapping[str, Any], old: Column | None) -> Column:
    if kind in STRING_TYPES:
        return _string(kind, params, old)
    if kind in ("integer", "bigint", "float"):
        return _numeric(kind, params, old)
    if kind == "boolean":
        return _boolean(params, old)
    if kind == "datetime":
        return _datetime(params, old)
    if kind in SPATIAL_TYPES:
        return _spatial(kind, params)
    return _format(kind, params, old)


def _spatial(kind: str, params: Mapping[str, Any]) -> Column:
    column: Column = {"type": SPATIAL_TYPES[kind], "default": None}
    default = params.get("default")
    if default is not None:
        problem = spatial_problem(column["type"], default)
        if problem:
            raise invalid_argument("default", problem)
        column["default"] = _as_floats(default)
    return column


def _point_problem(point: Any) -> str | None:
    if (
        not isinstance(point, list)
        or len(point) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ):
        return "Point must be an array of two numbers [longitude, latitude]"
    lon, lat = point
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return (
            "Invalid coordinates: longitude must be between -180 and 180, latitude between -90 "
            "and 90"
        )
    return None


def spatial_problem(kind: str, value: Any) -> str | None:
    """Why a value is not a point `[lon, lat]`, a line `[[lon, lat], …]` or a polygon
    `[[[lon, lat], …], …]` (closed rings of at least four points), or None."""
    if kind == "point":
        return _point_problem(value)
    if kind == "linestring":
        if not isinstance(value, list) or len(value) < 2:
            return "Line must be an array of at least two points"
        return next((p for p in map(_point_problem, value) if p), None)
    if not isinstance(value, list) or not value:
        return "Polygon must be an array of rings"
    for ring in value:
        if not isinstance(ring, list) or len(ring) < 4:
            return "Polygon ring must be an array of at least four points"
        problem = next((p for p in map(_point_problem, ring) if p), None)
        if problem:
            return problem
        if ring[0] != ring[-1]:
            return "Polygon ring must be closed: its first and last points must be equal"
    return None


def _as_floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return float(value)


def path_kind(column: Column) -> str:
    """The `<type>` path segment that addresses this column on create and update."""
    if column.get("format") in FORMAT_SIZES:
        return column["format"]
    if column["type"] == "linestring":
        return "line"
    if column["type"] == "double":
        return "float"
    return column["type"]


def update_column(old: Column, kind: str, params: Mapping[str, Any]) -> Column:
    """Validate `PATCH …/columns/<kind>/<key>`; the `default` key must be present (null allowed)."""
    if kind != path_kind(old):
        raise appwrite_error("column_type_invalid")
    required = bool_param(params, "required")
    if "default" not in params and kind not in SPATIAL_TYPES:  # optional on spatial routes
        raise missing_argument("default")
    typed_params = dict(params)
    if kind in ("string", "varchar") and params.get("size") is None:
        typed_params["size"] = old["size"]
    if kind == "enum" and "elements" not in params:
        raise missing_argument("elements")
    column = _typed(kind, typed_params, old)
    if kind in ("integer", "bigint") and params.get("max") is None and params.get("min") is None:
        column["size"] = old.get("size", column.get("size"))
    _check_required_default(required, bool(old.get("array")), column.get("default"))
    new_key = params.get("newKey")
    if new_key is not None:
        new_key = key_param(params, "newKey")
    merged = {**old, **column, "required": required}
    if new_key:
        merged["key"] = new_key
    return merged


def column_body(
    column: Column, status: str, error: str, created: str, updated: str
) -> dict[str, Any]:
    """The column as Appwrite answers it (reference §1.3), type-specific fields included."""
    kind = column["type"]
    body: dict[str, Any] = {
        "key": column["key"],
        "type": kind,
        "status": status,
        "error": error,
        "required": column["required"],
        "array": column.get("array", False),
        "$createdAt": created,
        "$updatedAt": updated,
    }
    fmt = column.get("format")
    if kind in ("string", "varchar") and fmt not in FORMAT_SIZES:
        body["size"] = column["size"]
        body["default"] = column.get("default")
        body["encrypt"] = column.get("encrypt", False)
    elif kind in TEXT_SIZES:
        body["default"] = column.get("default")
        body["encrypt"] = column.get("encrypt", False)
    elif kind in ("integer", "bigint", "double"):
        body["min"] = column["min"]
        body["max"] = column["max"]
        body["default"] = column.get("default")
    elif kind in ("boolean", "point", "linestring", "polygon"):
        body["default"] = column.get("default")
    elif kind == "relationship":
        for field in ("relatedTable", "relationType", "twoWay", "twoWayKey", "onDelete", "side"):
            body[field] = column[field]
    else:
        if fmt == "enum":
            body["elements"] = list(column.get("elements", []))
        body["format"] = fmt
        body["default"] = column.get("default")
    return body


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _scalar_problem(column: Column, value: Any) -> str | None:
    """Why a single value does not fit the column (utopia's validator description), or None."""
    kind = column["type"]
    fmt = column.get("format")
    if kind in TEXT_SIZES:
        size = TEXT_SIZES[kind]
        if not isinstance(value, str) or len(value.encode()) > size:
            return f"Value must be a valid string no longer than {size} bytes"
        return None
    if kind in STRING_TYPES:
        size = int(column.get("size") or 0)
        if not isinstance(value, str) or len(value) > size:
            return f"Value must be a valid string and no longer than {size} chars"
        if fmt == "email" and not _EMAIL_RE.match(value):
            return "Value must be a valid email address"
        if fmt == "url" and not _valid_url(value):
            return "Value must be a valid URL"
        if fmt == "ip" and not _valid_ip(value):
            return "Value must be a valid IP address"
        if fmt == "enum" and value not in column.get("elements", []):
            return "Value must be one of (" + ", ".join(column.get("elements", [])) + ")"
        return None
    if kind in ("integer", "bigint"):
        # utopia's Integer validator is strict: 5.0 (a JSON float) is not an integer.
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if number is None:
            return "Value must be a valid integer"
        if not column["min"] <= number <= column["max"]:
            return _range_description(column["min"], column["max"], kind)
        return None
    if kind == "double":
        number = float_value(value) if not isinstance(value, str) else None
        if number is None:
            return "Value must be a valid float"
        if not column["min"] <= number <= column["max"]:
            return _range_description(column["min"], column["max"], kind)
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else "Value must be a valid boolean"
    if kind == "datetime":
        return None if parse_datetime(value) else DATETIME_DESCRIPTION
    if kind in ("point", "linestring", "polygon"):
        return spatial_problem(kind, value)
    return "Value is not supported"


def _valid_url(value: str) -> bool:
    try:
        parts = urlparse(value)
    except ValueError:
        return False
    return bool(parts.scheme) and parts.scheme.isalpha() and bool(parts.netloc)


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def value_problem(column: Column, value: Any) -> str | None:
    """The reason a (non-null) value does not fit, in Structure-validator words."""
    if column.get("array"):
        if not isinstance(value, list):
            return f'Attribute "{column["key"]}" must be an array'
        for index, item in enumerate(value):
            if item is None:
                continue
            problem = _scalar_problem(column, item)
            if problem:
                label = "format" if column.get("format") in FORMAT_SIZES else "type"
                return f"Attribute \"{column['key']}['{index}']\" has invalid {label}. {problem}"
        return None
    problem = _scalar_problem(column, value)
    if problem is None:
        return None
    if column.get("key") is None:
        return problem
    label = "format" if column.get("format") in FORMAT_SIZES else "type"
    return f'Attribute "{column["key"]}" has invalid {label}. {problem}'


def encode_value(column: Column, value: Any) -> Any:
    """A validated JSON value → what SQLite stores (see the layout agreed with queries.py)."""

    if value is None:
        return None
    if column.get("array"):
        return json.dumps([_encode_scalar(column, v, for_json=True) for v in value])
    return _encode_scalar(column, value, for_json=False)


def _encode_scalar(column: Column, value: Any, *, for_json: bool) -> Any:
    if value is None:
        return None
    kind = column["type"]
    if kind == "boolean":
        return bool(value) if for_json else int(bool(value))
    if kind == "datetime":
        return parse_datetime(value)
    if kind in ("integer", "bigint"):
        return int(value)
    if kind == "double":
        return float(value)
    if kind in ("point", "linestring", "polygon"):
        return json.dumps(_as_floats(value))
    return value


def decode_value(column: Column, stored: Any) -> Any:
    """What SQLite holds → the JSON value Appwrite answers."""

    if stored is None:
        return None
    if column.get("array"):
        try:
            items = json.loads(stored)
        except (TypeError, ValueError):
            return None
        return [_decode_scalar(column, v) for v in items] if isinstance(items, list) else None
    return _decode_scalar(column, stored)


def _decode_scalar(column: Column, value: Any) -> Any:
    if value is None:
        return None
    kind = column["type"]
    if kind == "boolean":
        return bool(value)
    if kind in ("integer", "bigint"):
        return int(value)
    if kind == "double":
        return float(value)
    if kind in ("point", "linestring", "polygon") and isinstance(value, str):
        return json.loads(value)
    return value
