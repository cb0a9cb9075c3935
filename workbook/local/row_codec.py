"""One table's columns compiled once: value checks and encoders for writes, row builders for
answers.

Built per schema version (see `table_cache`), so a bulk write of 100 rows looks up each column's
rules once, not once per value. Every fast path accepts only values the general rules
(`columns.value_problem`, `encode_value`) accept, and stores exactly what they would store;
anything else goes through the general rules, which also word the error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbook.local import columns as cols
from workbook.local import queries
from workbook.local.errors import AppwriteError, bad_request
from workbook.local.params import parse_datetime

Column = dict[str, Any]
Fit = Callable[[Any], Any]
Decode = Callable[[Any], Any]
BodyBuilder = Callable[[Sequence[Any]], dict[str, Any]]

# The system columns every row tuple starts with, in this order (as list queries select them).
SYSTEM_SQL = tuple(queries.SYSTEM_SQL)
_EXACT_FLOAT = 2**53
MAX_BUILDERS = 64  # one per distinct select(); more are built per request


def structure_error(reason: str) -> AppwriteError:
    return bad_request("row_invalid_structure", f"Invalid document structure: {reason}")


def _general_fit(column: Column) -> Fit:
    def fit(value: Any) -> Any:
        problem = cols.value_problem(column, value)
        if problem:
            raise structure_error(problem)
        return cols.encode_value(column, value)

    return fit


def compile_fit(column: Column) -> Fit:
    """Check one non-null value against `column` and return what SQLite stores."""
    general = _general_fit(column)
    if column.get("array"):
        return general
    kind, fmt = column["type"], column.get("format")
    if kind in ("integer", "bigint"):
        lo, hi = column["min"], column["max"]
        return lambda v: v if type(v) is int and lo <= v <= hi else general(v)
    if kind == "double":
        low, high = column["min"], column["max"]

        def fit_double(v: Any) -> Any:
            number = float(v) if type(v) is int and -_EXACT_FLOAT <= v <= _EXACT_FLOAT else v
            return number if type(number) is float and low <= number <= high else general(v)

        return fit_double
    if kind == "boolean":
        return lambda v: int(v) if type(v) is bool else general(v)
    if kind == "datetime":

        def fit_datetime(v: Any) -> Any:
            normalized = parse_datetime(v)
            return normalized if normalized is not None else general(v)

        return fit_datetime
    if kind in cols.TEXT_SIZES:
        size = cols.TEXT_SIZES[kind]
        return lambda v: v if type(v) is str and len(v) * 4 <= size else general(v)
    if kind in ("string", "varchar") and fmt is None:
        chars = int(column.get("size") or 0)
        return lambda v: v if type(v) is str and len(v) <= chars else general(v)
    if fmt == "enum":
        elements = frozenset(column.get("elements", []))
        chars = int(column.get("size") or 0)
        return lambda v: v if type(v) is str and len(v) <= chars and v in elements else general(v)
    return general


def _as_int(value: Any) -> int:
    return value if type(value) is int else int(value)


def _as_float(value: Any) -> float:
    return value if type(value) is float else float(value)


def compile_decode(column: Column) -> Decode | None:
    """Stored (non-null) value → the JSON value Appwrite answers; None when it is the same."""
    if column.get("array"):
        return lambda v: cols.decode_value(column, v)
    kind = column["type"]
    if kind in ("point", "linestring", "polygon"):
        return lambda v: cols.decode_value(column, v)
    if kind == "boolean":
        return bool
    if kind in ("integer", "bigint"):
        return _as_int
    if kind == "double":
        return _as_float
    return None


def decode_permissions(stored: str | None) -> list[str]:
    if not stored or stored == "[]":
        return []
    return json.loads(stored)


class RowCodec:
    """Writes: `full` / `partial` validate user values like utopia's Structure validator.
    Reads: `builder(names)` turns a tuple of those SQL columns into Appwrite's Row."""

    def __init__(self, table_id: str, database_id: str, columns: list[Column]) -> None:
        self.table_id = table_id
        self.database_id = database_id
        self.columns = columns
        self.keys = [c["key"] for c in columns]
        self.known = frozenset(self.keys)
        self.by_key = {c["key"]: c for c in columns}
        self._rules = [
            (c["key"], bool(c["required"]), c.get("default"), compile_fit(c)) for c in columns
        ]
        self._decoders = {c["key"]: compile_decode(c) for c in columns}
        self._builders: dict[tuple[str, ...], BodyBuilder] = {}
        self.row_names = (*SYSTEM_SQL, *self.keys)
        self.position = {name: index for index, name in enumerate(self.row_names)}

    def _unknown(self, data: Mapping[str, Any]) -> None:
        if self.known.issuperset(data):
            return
        for key in data:
            if key not in self.known:
                raise structure_error(f'Unknown attribute: "{key}"')

    def full(self, data: Mapping[str, Any]) -> list[Any]:
        """Every column's stored value, in column order: defaults filled, required checked."""
        self._unknown(data)
        values: list[Any] = []
        for key, required, default, fit in self._rules:
            value = data.get(key)
            if value is None and default is not None:
                value = default
            if value is None:
                if required:
                    raise structure_error(f'Missing required attribute "{key}"')
                values.append(None)
            else:
                values.append(fit(value))
        return values

    def partial(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Stored values of the given columns only (a bulk update's PartialStructure)."""
        self._unknown(data)
        values: dict[str, Any] = {}
        for key, required, default, fit in self._rules:
            if key not in data:
                continue
            value = data[key]
            if value is None and default is not None:
                value = default
            if value is None:
                if required:
                    raise structure_error(f'Missing required attribute "{key}"')
                values[key] = None
            else:
                values[key] = fit(value)
        return values

    def decode(self, key: str, stored: Any) -> Any:
        decoder = self._decoders[key]
        return stored if stored is None or decoder is None else decoder(stored)

    def builder(self, names: Sequence[str]) -> BodyBuilder:
        """A row builder for tuples of the SQL columns `names` (system columns first)."""
        names = tuple(names)
        built = self._builders.get(names)
        if built is None:
            built = self._compile_builder(names)
            if len(self._builders) < MAX_BUILDERS:
                self._builders[names] = built
        return built

    def _compile_builder(self, names: tuple[str, ...]) -> BodyBuilder:
        assert names[: len(SYSTEM_SQL)] == SYSTEM_SQL
        user = [
            (index, key, self._decoders[key])
            for index, key in enumerate(names)
            if index >= len(SYSTEM_SQL)
        ]
        table_id, database_id = self.table_id, self.database_id

        def build(row: Sequence[Any]) -> dict[str, Any]:
            body = {
                "$id": row[1],
                "$sequence": str(row[0]),
                "$tableId": table_id,
                "$databaseId": database_id,
                "$createdAt": row[2],
                "$updatedAt": row[3],
                "$permissions": decode_permissions(row[4]),
            }
            for index, key, decoder in user:
                value = row[index]
                body[key] = value if value is None or decoder is None else decoder(value)
            return body

        return build
