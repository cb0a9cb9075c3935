"""Atomic update operators (Appwrite 1.8.1+): a column's value in row data that is a JSON string
`{"method": …, "values": […]}` with a known method is an operator, applied to the row's current
value (row update, upsert, bulk update, bulk upsert, transaction commit; never create).

Checks and messages follow utopia's `Validator\\Operator`; results are capped by the optional
max/min as utopia's SQL is, then validated like any written value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from workbook.local.errors import AppwriteError, bad_request
from workbook.local.params import now_iso, parse_datetime

NUMERIC = ("increment", "decrement", "multiply", "divide", "modulo", "power")
ARRAY = (
    "arrayAppend",
    "arrayPrepend",
    "arrayInsert",
    "arrayRemove",
    "arrayUnique",
    "arrayIntersect",
    "arrayDiff",
    "arrayFilter",
)
METHODS = frozenset((*NUMERIC, *ARRAY, "stringConcat", "stringReplace", "toggle", "dateAddDays",
                     "dateSubDays", "dateSetNow"))  # fmt: skip
NUMBER_TYPES = ("integer", "bigint", "double")
STRING_TYPES = ("string", "varchar", "text", "mediumtext", "longtext")
INT_MAX = 9223372036854775807


def parse(value: object) -> tuple[str, list[Any]] | None:
    """(method, values) when `value` is an operator as the SDK's `Operator` encodes it."""
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    if not isinstance(decoded, dict) or decoded.get("method") not in METHODS:
        return None
    values = decoded.get("values", [])
    return decoded["method"], values if isinstance(values, list) else [values]


def has_operators(data: Mapping[str, Any]) -> bool:
    return any(key[:1] != "$" and parse(value) for key, value in data.items())


def _invalid(key: str, message: str) -> AppwriteError:
    return bad_request("general_bad_request", f"Invalid operator for attribute '{key}': {message}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(key: str, kind: str, method: str, values: list[Any], current: Any) -> Any:
    if kind not in NUMBER_TYPES:
        raise _invalid(key, f"Cannot apply {method} to non-numeric field '{key}'")
    if not values or not _is_number(values[0]):
        raise _invalid(key, "Numeric operator value must be numeric")
    operand = values[0]
    if method in ("divide", "modulo") and operand == 0:
        what = "Division" if method == "divide" else "Modulo"
        raise _invalid(key, f"{what} by zero is not allowed")
    limit = values[1] if len(values) > 1 else None
    if limit is not None and not _is_number(limit):
        raise _invalid(key, "Max/min limit must be numeric")
    base = current or 0
    result: Any
    if method == "increment":
        result = base + operand
    elif method == "decrement":
        result = base - operand
    elif method == "multiply":
        result = base * operand
    elif method == "divide":
        result = base / operand
    elif method == "modulo":
        result = math.fmod(base, operand)
    else:
        try:
            result = base**operand
        except OverflowError:
            result = math.inf
    if limit is not None:
        result = max(result, limit) if method in ("decrement", "divide") else min(result, limit)
    if kind != "double":
        if isinstance(result, float):
            if not math.isfinite(result) or abs(result) > INT_MAX:
                raise _invalid(
                    key, f"Attribute '{key}': invalid type, value must be less than or equal to "
                    f"{INT_MAX}"
                )  # fmt: skip
            result = int(math.copysign(math.floor(abs(result) + 0.5), result))
        if abs(result) > INT_MAX:
            raise _invalid(
                key,
                f"Attribute '{key}': invalid type, value must be less than or equal to {INT_MAX}",
            )
    else:
        result = float(result)
    return result


_CONDITIONS: dict[str, Callable[[Any, Any], bool]] = {
    "equal": lambda item, v: item == v,
    "notEqual": lambda item, v: item != v,
    "greaterThan": lambda item, v: item is not None and item > v,
    "greaterThanEqual": lambda item, v: item is not None and item >= v,
    "lessThan": lambda item, v: item is not None and item < v,
    "lessThanEqual": lambda item, v: item is not None and item <= v,
    "contains": lambda item, v: isinstance(item, str) and str(v) in item,
    "isNull": lambda item, v: item is None,
    "isNotNull": lambda item, v: item is not None,
}


def _array(key: str, method: str, values: list[Any], current: Any, is_array: bool) -> Any:
    if not is_array:
        if method in ("arrayAppend", "arrayPrepend", "arrayUnique"):
            raise _invalid(key, f"Cannot apply {method} to non-array field '{key}'")
        raise _invalid(key, f"Cannot use {method} operator on non-array attribute '{key}'")
    items = list(current or [])
    if method == "arrayAppend":
        return items + values
    if method == "arrayPrepend":
        return values + items
    if method == "arrayInsert":
        if len(values) != 2:
            raise _invalid(key, "Insert operator requires exactly 2 values: index and value")
        index = values[0]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise _invalid(key, "Insert index must be a non-negative integer")
        if index > len(items):
            raise _invalid(
                key, f"Insert index {index} is out of bounds for array of length {len(items)}"
            )
        return items[:index] + [values[1]] + items[index:]
    if method == "arrayRemove":
        if not values:
            raise _invalid(key, "Array remove operator requires a value to remove")
        return [item for item in items if item != values[0]]
    if method == "arrayUnique":
        unique: list[Any] = []
        for item in items:
            if item not in unique:
                unique.append(item)
        return unique
    if method == "arrayIntersect":
        return [item for item in items if item in values]
    if method == "arrayDiff":
        return [item for item in items if item not in values]
    if not 1 <= len(values) <= 2:
        raise _invalid(
            key, "Array filter operator requires 1 or 2 values: condition and optional comparison "
            "value"
        )  # fmt: skip
    condition = values[0]
    if not isinstance(condition, str) or condition not in _CONDITIONS:
        raise _invalid(key, "Array filter condition must be a string")
    test, operand = _CONDITIONS[condition], values[1] if len(values) > 1 else None
    try:
        return [item for item in items if test(item, operand)]
    except TypeError:
        return []


def apply(column: Mapping[str, Any], method: str, values: list[Any], current: Any) -> Any:
    """The new value of `column` (currently `current`, as answered) under the operator."""
    key, kind, is_array = column["key"], column["type"], bool(column.get("array"))
    if method in NUMERIC:
        return _numeric(key, kind, method, values, current)
    if method in ARRAY:
        return _array(key, method, values, current, is_array)
    if method == "stringConcat":
        if kind not in STRING_TYPES and not is_array:
            raise _invalid(key, f"Cannot apply concat to non-string field '{key}'")
        if not values or not isinstance(values[0], str):
            raise _invalid(key, "String concatenation operator requires a string value")
        if is_array:
            return list(current or []) + values
        return (current or "") + values[0]
    if method == "stringReplace":
        if kind not in STRING_TYPES:
            raise _invalid(key, f"Cannot apply replace to non-string field '{key}'")
        if len(values) != 2 or not all(isinstance(v, str) for v in values):
            raise _invalid(
                key, "Replace operator requires exactly 2 string values: search and replace"
            )
        return None if current is None else current.replace(values[0], values[1])
    if method == "toggle":
        if kind != "boolean":
            raise _invalid(key, f"Cannot apply toggle to non-boolean field '{key}'")
        return not current
    if kind != "datetime":
        raise _invalid(key, f"Invalid date format in field '{key}'")
    if method == "dateSetNow":
        return now_iso()
    if not values or not isinstance(values[0], int) or isinstance(values[0], bool):
        raise _invalid(key, "Date operator requires an integer number of days")
    if current is None:
        return None
    days = values[0] if method == "dateAddDays" else -values[0]
    moment = datetime.fromisoformat(parse_datetime(current) or current)
    return (moment + timedelta(days=days)).isoformat()


def resolve(
    columns: Mapping[str, Mapping[str, Any]],
    data: Mapping[str, Any],
    current: Callable[[str], Any],
) -> dict[str, Any]:
    """`data` with every operator replaced by its result on the row's `current(key)` value."""
    if not has_operators(data):
        return dict(data)
    resolved: dict[str, Any] = {}
    for key, value in data.items():
        parsed = parse(value) if key[:1] != "$" else None
        column = columns.get(key)
        if parsed is None or column is None or column["type"] == "relationship":
            resolved[key] = value
            continue
        resolved[key] = apply(column, parsed[0], parsed[1], current(key))
    return resolved
