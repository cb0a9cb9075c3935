"""Index definitions: utopia's Index validator rules, Appwrite's answer shape, SQLite's DDL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from workbook.local.errors import AppwriteError, appwrite_error, bad_request, invalid_argument
from workbook.local.params import (
    int_value,
    integer_description,
    key_param,
    list_param,
    text_param,
)
from workbook.local.store import SYSTEM_KEYS, quote

if TYPE_CHECKING:
    from workbook.local.meta import Item

INDEX_TYPES = ("key", "fulltext", "unique", "spatial")
MAX_INDEXES = 58
MAX_INDEX_LENGTH = 768
MAX_INDEX_COLUMNS = 100  # APP_LIMIT_ARRAY_PARAMS_SIZE


def _invalid(message: str) -> AppwriteError:
    return bad_request("column_index_invalid", message)


def build_index(
    params: Mapping[str, Any], columns: Sequence[Item], existing: Sequence[Item], table_id: str
) -> dict[str, Any]:
    """Validate an index request in the order of Appwrite's Indexes/Create action: parameters,
    index count, each column (unknown, not available, array), the Index validator, the key."""
    key = key_param(params, "key")
    kind = text_param(params, "type")
    if kind not in INDEX_TYPES:
        raise invalid_argument("type", "Value must be one of (" + ", ".join(INDEX_TYPES) + ")")
    names = list_param(params, "columns")
    orders = list_param(params, "orders", default=[])
    lengths = list_param(params, "lengths", default=[])
    if not all(isinstance(name, str) for name in names):
        raise invalid_argument("columns", "Value must a valid array and Value must be a valid key")
    for order in orders:
        if order is not None and str(order).upper() not in ("ASC", "DESC"):
            raise invalid_argument("orders", "Value must be one of (ASC, DESC)")
    for length in lengths:  # ArrayList(Nullable(Integer())): strict, signed 32-bit
        if length is not None and (
            not isinstance(length, int)
            or isinstance(length, bool)
            or not -(2**31) <= length < 2**31
        ):
            raise invalid_argument("lengths", LENGTHS_DESCRIPTION)
    if len(existing) >= MAX_INDEXES:
        raise appwrite_error("column_index_limit_exceeded", table_id)
    by_key = {c.key: c for c in columns if c.status != "deleting"}
    for name in names:
        if name in SYSTEM_DEFINITIONS:
            continue
        column = by_key.get(name)
        if column is None:
            raise appwrite_error("column_unknown", name)
        if column.status != "available":
            raise appwrite_error("column_not_available", name)
        if column.definition.get("array"):
            raise bad_request(
                "index_invalid",
                "Creating indexes on array attributes is not currently supported.",
            )
    if len(lengths) > len(names):
        raise _invalid(
            "Invalid index lengths. Count of lengths must be equal or less than the number of "
            "attributes."
        )
    padded = [
        int_value(lengths[i]) if i < len(lengths) and lengths[i] else None
        for i in range(len(names))
    ]
    _validate(kind, names, padded, by_key)
    if any(i.key.lower() == key.lower() for i in existing):
        raise appwrite_error("column_index_already_exists", key)
    return {
        "key": key,
        "type": kind,
        "columns": list(names),
        "lengths": padded,
        "orders": [str(o).upper() if o is not None else None for o in orders],
    }


LENGTHS_DESCRIPTION = (
    f"Value must a valid array no longer than {MAX_INDEX_COLUMNS} items and "
    f"{integer_description(32)} or null"
)

# The system columns an index may name, as utopia describes them to its Index validator.
SYSTEM_DEFINITIONS: dict[str, dict[str, Any]] = {
    "$id": {"key": "$id", "type": "string", "size": 255},
    "$createdAt": {"key": "$createdAt", "type": "datetime"},
    "$updatedAt": {"key": "$updatedAt", "type": "datetime"},
}
STRING_KINDS = ("string", "varchar", "text", "mediumtext", "longtext")


def _validate(
    kind: str, names: Sequence[str], lengths: Sequence[int | None], by_key: Mapping[str, Item]
) -> None:
    """utopia's Index validator (Validator/Index.php): attributes present and distinct,
    fulltext on strings only, lengths only on strings and within their size, and the total
    key length within MariaDB's 768."""
    if not names:
        raise _invalid("No attributes provided for index")
    if len({name.lower() for name in names}) != len(names):
        raise _invalid("Duplicate attributes provided")
    definitions = [
        SYSTEM_DEFINITIONS[name] if name in SYSTEM_DEFINITIONS else by_key[name].definition
        for name in names
    ]
    for definition, length in zip(definitions, lengths, strict=True):
        if kind == "fulltext" and definition["type"] not in STRING_KINDS:
            raise _invalid(
                f'Attribute "{definition["key"]}" cannot be part of a fulltext index, must be of '
                "type string"
            )
        if definition["type"] not in STRING_KINDS and length:
            raise _invalid(f'Cannot set a length on "{definition["type"]}" attributes')
    if kind == "spatial":
        first = definitions[0]
        if first["type"] not in ("point", "linestring", "polygon"):
            raise _invalid(
                "Spatial index can only be created on spatial attributes (point, linestring, "
                f'polygon). Attribute "{first["key"]}" is of type "{first["type"]}"'
            )
        if len(definitions) != 1:
            raise _invalid("Spatial index can only be created on a single spatial attribute")
        return
    if kind == "fulltext":
        return
    total = 0
    for definition, length in zip(definitions, lengths, strict=True):
        if definition["type"] in STRING_KINDS:
            size = int(definition.get("size") or 0)
            index_length = length or size
        else:
            size = index_length = 2 if definition["type"] == "double" else 1
        if index_length < 0:
            raise _invalid(f"Negative index length provided for {definition['key']}")
        if index_length > size:
            raise _invalid(
                f"Index length {index_length} is larger than the size for {definition['key']}: "
                f'{size}"'
            )
        total += index_length
    if total > MAX_INDEX_LENGTH:
        raise _invalid(f"Index length is longer than the maximum: {MAX_INDEX_LENGTH}")


def index_sql(table_sql: str, index_sql_name: str, definition: Mapping[str, Any]) -> str:
    """The real SQLite index; a fulltext index is an ordinary one (search is a scan)."""
    unique = "UNIQUE " if definition["type"] == "unique" else ""
    orders = definition.get("orders") or []
    parts = []
    for position, name in enumerate(definition["columns"]):
        order = orders[position] if position < len(orders) and orders[position] else ""
        parts.append(f"{quote(SYSTEM_KEYS.get(name, name))} {order}".strip())
    return f"CREATE {unique}INDEX {index_sql_name} ON {table_sql} ({', '.join(parts)})"


def index_body(
    db_seq: int,
    table_seq: int,
    definition: Mapping[str, Any],
    status: str,
    error: str,
    created: str,
    updated: str,
) -> dict[str, Any]:
    return {
        "$id": f"{db_seq}_{table_seq}_{definition['key']}",
        "$createdAt": created,
        "$updatedAt": updated,
        "key": definition["key"],
        "type": definition["type"],
        "status": status,
        "error": error,
        "columns": list(definition["columns"]),
        "lengths": list(definition.get("lengths") or []),
        "orders": list(definition.get("orders") or []),
    }
