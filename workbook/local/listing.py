"""Queries on metadata lists (databases, tables, columns, indexes), evaluated in Python.

These lists are small, so the filters Appwrite allows on them (equal, notEqual, ordering,
limit/offset, cursor, search on name) are applied to the answered dicts directly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from workbook.local.errors import AppwriteError, bad_request, invalid_argument, query_invalid
from workbook.local.params import range_description
from workbook.local.queries import MAX_INT, UID_PATTERN, Query, parse_queries

DEFAULT_LIMIT = 25
COUNT_CAP = 5000


INTERNAL = ("$id", "$createdAt", "$updatedAt", "$sequence")


def _refused(description: str) -> AppwriteError:
    """Metadata lists validate `queries` as a route parameter (Appwrite's Queries\\Base)."""
    return invalid_argument("queries", description)


def _parsed(raw_queries: Sequence[str]) -> list[Query]:
    try:
        return parse_queries(raw_queries)
    except AppwriteError as error:
        if error.type != "general_query_invalid":
            raise
        raise _refused(f"Invalid query: {error.message}") from None


def _check(query: Query, allowed: Collection[str]) -> None:
    """Appwrite's Queries\\Base validators: limit, offset, cursor, filters and orders on the
    allowed attributes, and no select (isSelectQueryAllowed() is false for these lists)."""
    method, values = query.method, list(query.values)
    first = values[0] if values else None
    if method == "select":
        raise _refused("Invalid query method: select")
    if method in ("limit", "offset"):
        low = 1 if method == "limit" else 0
        if not isinstance(first, int | float) or isinstance(first, bool):
            raise _refused("Invalid query: Invalid limit: Value must be a valid number")
        if not isinstance(first, int) or not low <= first <= MAX_INT:
            raise _refused(f"Invalid query: Invalid {method}: {range_description(low, MAX_INT)}")
    elif method in ("cursorAfter", "cursorBefore"):
        if not isinstance(first, str) or UID_PATTERN.fullmatch(first) is None:
            raise _refused(
                "Invalid query: Invalid cursor: UID must contain at most 36 chars. Valid chars "
                "are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore"
            )
    elif method in ("and", "or"):
        for item in values:
            assert isinstance(item, Query)
            _check(item, allowed)
    elif method in ("orderAsc", "orderDesc") and not query.attribute:
        return
    elif method != "orderRandom" and query.attribute not in allowed:
        raise _refused(f"Invalid query: Attribute not found in schema: {query.attribute}")


def _matches(item: dict[str, Any], method: str, attribute: str, values: list[Any]) -> bool:
    value = item.get(attribute)
    if method == "equal":
        return value in values
    if method == "notEqual":
        return value not in values
    if method == "isNull":
        return value is None
    if method == "isNotNull":
        return value is not None
    if method == "startsWith":
        return isinstance(value, str) and any(value.startswith(str(v)) for v in values)
    if method == "endsWith":
        return isinstance(value, str) and any(value.endswith(str(v)) for v in values)
    if method in ("contains", "search"):
        if isinstance(value, list):
            return any(v in value for v in values)
        return isinstance(value, str) and any(str(v).lower() in value.lower() for v in values)
    comparable = [v for v in values if v is not None]
    if value is None or not comparable:
        return False
    try:
        if method == "lessThan":
            return value < comparable[0]
        if method == "lessThanEqual":
            return value <= comparable[0]
        if method == "greaterThan":
            return value > comparable[0]
        if method == "greaterThanEqual":
            return value >= comparable[0]
        if method == "between":
            return comparable[0] <= value <= comparable[1]
    except (TypeError, IndexError):
        return False
    raise query_invalid(f"Invalid query: Query method not valid: {method}")


def apply_queries(
    items: list[dict[str, Any]],
    raw_queries: Sequence[str],
    *,
    allowed: Sequence[str],
    id_field: str = "$id",
    fields: Mapping[str, str] | None = None,
    search: str | None = None,
    search_fields: Sequence[str] = ("name",),
    with_total: bool = True,
) -> tuple[int, list[dict[str, Any]]]:
    """Filter, order and page `items` as Appwrite's list routes do; returns (total, page).

    `allowed` are the attributes Appwrite's query validator of the list accepts (its
    ALLOWED_* list, less those its metadata collection lacks); `fields` maps a queried
    attribute to the answered field that holds it (an index's `attributes` are `columns`)."""
    filters: list[tuple[str, str, list[Any]]] = []
    orders: list[tuple[str, bool]] = []
    limit, offset = DEFAULT_LIMIT, 0
    cursor: tuple[str, bool] | None = None
    allowed_all = (*allowed, *INTERNAL)
    for query in _parsed(list(raw_queries)):
        _check(query, allowed_all)
        method, values = query.method, list(query.values)
        attribute = (fields or {}).get(query.attribute, query.attribute)
        if method == "limit":
            limit = int(values[0])
        elif method == "offset":
            offset = int(values[0])
        elif method in ("cursorAfter", "cursorBefore"):
            cursor = (str(values[0]), method == "cursorBefore")
        elif method in ("orderAsc", "orderDesc"):
            orders.append((attribute or id_field, method == "orderDesc"))
        elif method != "orderRandom":
            filters.append((method, attribute, values))
    selected = [
        item
        for item in items
        if all(_matches(item, m, a, v) for m, a, v in filters)
        and (
            not search or any(search.lower() in str(item.get(f, "")).lower() for f in search_fields)
        )
    ]
    for attribute, descending in reversed(orders):
        selected.sort(
            key=lambda it, a=attribute: (it.get(a) is not None, it.get(a) or 0), reverse=descending
        )
    total = min(len(selected), COUNT_CAP) if with_total else 0
    if cursor is not None:
        ids = [item.get(id_field) for item in selected]
        if cursor[0] not in ids:
            if not any(item.get(id_field) == cursor[0] for item in items):
                raise bad_request(
                    "general_cursor_not_found",
                    f"Document '{cursor[0]}' for the 'cursor' value not found.",
                )
            return total, []
        position = ids.index(cursor[0])
        if cursor[1]:
            before = selected[:position]
            start = max(0, len(before) - offset - limit)
            return total, before[start : len(before) - offset]
        selected = selected[position + 1 :]
    return total, selected[offset : offset + limit]
