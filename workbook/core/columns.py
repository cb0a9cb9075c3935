"""Column and index definitions as a migration states them, compared with what Appwrite stores.

Appwrite stores `email`/`url`/`ip`/`enum` as `string` plus a `format`, and `float` as
`double`; its SDK has one create and one update method per type. This module is the one
place that knows those mappings, so `ops` can say "exists, identical" or name what differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbook.errors import OperationFailed

STRING_FORMATS = ("email", "url", "ip", "enum")
SIZED = ("varchar", "string")
NUMERIC = ("integer", "bigint", "float")
TYPES = (
    "varchar",
    "string",
    "text",
    "mediumtext",
    "longtext",
    "integer",
    "bigint",
    "float",
    "boolean",
    "datetime",
    "email",
    "url",
    "ip",
    "enum",
)
_ALIASES = {"double": "float"}
_SDK_NAME = {"bigint": "big_int"}
_STORED = {"float": ("double", None), **{f: ("string", f) for f in STRING_FORMATS}}
_INLINE = {"float": "double"}
INDEX_TYPES = ("key", "unique", "fulltext", "spatial")


def column_kind(column: dict[str, Any]) -> str:
    """The workbook type of a stored column: `email` for string+email, `float` for double."""
    stored = str(column.get("type", ""))
    fmt = column.get("format") or ""
    if stored == "string" and fmt in STRING_FORMATS:
        return fmt
    return _ALIASES.get(stored, stored)


def update_method(column: dict[str, Any]) -> str:
    """The SDK `update_<type>_column` that fits a stored column."""
    kind = column_kind(column)
    if kind not in TYPES:
        raise OperationFailed(
            f"column {column.get('key')} has type {kind!r}, which update_column does not handle",
            hint="change it with the raw SDK (wb.tables)",
        )
    return f"update_{_SDK_NAME.get(kind, kind)}_column"


def same_value(kind: str, stored: Any, wanted: Any) -> bool:
    """Equality that tolerates how Appwrite echoes numbers and datetimes back."""
    if stored is None or wanted is None:
        return stored is None and wanted is None
    if kind in NUMERIC and _is_number(stored) and _is_number(wanted):
        if isinstance(stored, int) and isinstance(wanted, int):
            return stored == wanted
        return math.isclose(float(stored), float(wanted), rel_tol=1e-12)
    if kind == "datetime" and isinstance(stored, str) and isinstance(wanted, str):
        try:
            return _instant(stored) == _instant(wanted)
        except ValueError:
            return stored == wanted
    return stored == wanted


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)


@dataclass(frozen=True)
class ColumnSpec:
    """A column as a migration asks for it (`add_column` arguments)."""

    key: str
    type: str
    required: bool = False
    default: Any = None
    array: bool = False
    size: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    elements: tuple[str, ...] | None = None

    @classmethod
    def build(cls, key: str, type: str, **options: Any) -> ColumnSpec:
        kind = _ALIASES.get(type, type)
        if kind not in TYPES:
            raise OperationFailed(
                f"column {key}: unknown type {type!r}", hint=f"use one of {', '.join(TYPES)}"
            )
        elements = options.pop("elements", None)
        spec = cls(key=key, type=kind, elements=tuple(elements) if elements else None, **options)
        if kind in SIZED and spec.size is None:
            raise OperationFailed(f"column {key}: type {kind} needs size=")
        if kind == "enum" and not spec.elements:
            raise OperationFailed(f"column {key}: type enum needs elements=[...]")
        return spec

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> ColumnSpec:
        """Read a `create_table(columns=[...])` item; unknown keys are an error, not ignored."""
        data = dict(item)
        try:
            key, kind = data.pop("key"), data.pop("type")
        except KeyError as exc:
            raise OperationFailed(f"column definition {item!r} lacks {exc.args[0]!r}") from exc
        allowed = {"required", "default", "array", "size", "min", "max", "elements"}
        unknown = set(data) - allowed
        if unknown:
            raise OperationFailed(f"column {key}: unknown option(s) {', '.join(sorted(unknown))}")
        return cls.build(key, kind, **data)

    @property
    def create_method(self) -> str:
        return f"create_{_SDK_NAME.get(self.type, self.type)}_column"

    def sdk_arguments(self) -> dict[str, Any]:
        """Keyword arguments of the SDK create method, beyond database/table/key."""
        args: dict[str, Any] = {"required": self.required, "array": self.array}
        if self.default is not None:
            args["default"] = self.default
        if self.type in SIZED:
            args["size"] = self.size
        if self.type in NUMERIC:
            args.update({k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None})
        if self.type == "enum":
            args["elements"] = list(self.elements or ())
        return args

    def inline(self) -> dict[str, Any]:
        """The item `create_table(columns=[...])` sends (Appwrite's inline column shape)."""
        item: dict[str, Any] = {
            "key": self.key,
            "type": _INLINE.get(self.type, self.type),
            "required": self.required,
            "array": self.array,
        }
        if self.default is not None:
            item["default"] = self.default
        if self.size is not None:
            item["size"] = self.size
        if self.min is not None:
            item["min"] = self.min
        if self.max is not None:
            item["max"] = self.max
        if self.elements:
            item["elements"] = list(self.elements)
        return item

    def stored(self) -> dict[str, Any]:
        """What Appwrite would report once the column is built (used by dry runs)."""
        stored_type, fmt = _STORED.get(self.type, (self.type, None))
        column = {
            "key": self.key,
            "type": stored_type,
            "status": "available",
            "error": "",
            "required": self.required,
            "array": self.array,
            "default": self.default,
        }
        if fmt or self.type == "datetime":
            column["format"] = fmt or "datetime"
        for name in ("size", "min", "max"):
            if getattr(self, name) is not None:
                column[name] = getattr(self, name)
        if self.elements:
            column["elements"] = list(self.elements)
        return column

    def differences(self, column: dict[str, Any]) -> list[str]:
        """What a stored column has that this spec does not; unspecified bounds are not compared."""
        diffs: list[str] = []
        kind = column_kind(column)
        if kind != self.type:
            return [f"type is {kind}, wanted {self.type}"]
        for name in ("required", "array"):
            if bool(column.get(name, False)) != getattr(self, name):
                diffs.append(
                    f"{name} is {bool(column.get(name, False))}, wanted {getattr(self, name)}"
                )
        if not same_value(kind, column.get("default"), self.default):
            diffs.append(f"default is {column.get('default')!r}, wanted {self.default!r}")
        if self.type in SIZED and column.get("size") != self.size:
            diffs.append(f"size is {column.get('size')}, wanted {self.size}")
        for name in ("min", "max"):
            wanted = getattr(self, name)
            if wanted is not None and not same_value(kind, column.get(name), wanted):
                diffs.append(f"{name} is {column.get(name)}, wanted {wanted}")
        if self.elements and list(column.get("elements") or []) != list(self.elements):
            diffs.append(f"elements are {column.get('elements')}, wanted {list(self.elements)}")
        return diffs


@dataclass(frozen=True)
class IndexSpec:
    """An index as a migration asks for it; `orders` of None means "don't care"."""

    key: str
    type: str
    columns: tuple[str, ...]
    orders: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls,
        key: str,
        type: str,
        columns: list[str] | tuple[str, ...] | str,
        orders: list[str] | tuple[str, ...] | None = None,
    ) -> IndexSpec:
        if type not in INDEX_TYPES:
            raise OperationFailed(
                f"index {key}: unknown type {type!r}", hint=f"use one of {', '.join(INDEX_TYPES)}"
            )
        cols = (columns,) if isinstance(columns, str) else tuple(columns)
        if not cols:
            raise OperationFailed(f"index {key}: no columns given")
        normalized = tuple(str(o).upper() for o in orders) if orders else None
        return cls(key=key, type=type, columns=cols, orders=normalized)

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> IndexSpec:
        data = dict(item)
        columns = data.pop("columns", None) or data.pop("attributes", None)
        try:
            return cls.build(
                data.pop("key"), data.pop("type"), columns or (), data.pop("orders", None)
            )
        except KeyError as exc:
            raise OperationFailed(f"index definition {item!r} lacks {exc.args[0]!r}") from exc

    def inline(self) -> dict[str, Any]:
        """Appwrite's inline index item: note `attributes`, not `columns`, even on TablesDB."""
        item: dict[str, Any] = {
            "key": self.key,
            "type": self.type,
            "attributes": list(self.columns),
        }
        if self.orders:
            item["orders"] = list(self.orders)
        return item

    def stored(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "status": "available",
            "error": "",
            "columns": list(self.columns),
            "orders": list(self.orders or ()),
            "lengths": [],
        }

    def differences(self, index: dict[str, Any]) -> list[str]:
        diffs: list[str] = []
        if index.get("type") != self.type:
            diffs.append(f"type is {index.get('type')}, wanted {self.type}")
        stored_columns = list(index.get("columns") or index.get("attributes") or [])
        if stored_columns != list(self.columns):
            diffs.append(f"columns are {stored_columns}, wanted {list(self.columns)}")
        if self.orders is not None:
            stored_orders = [str(o).upper() for o in index.get("orders") or [] if o]
            if stored_orders != list(self.orders):
                diffs.append(f"orders are {stored_orders}, wanted {list(self.orders)}")
        return diffs
