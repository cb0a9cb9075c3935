"""Queries on metadata lists (databases, tables, columns, indexes), evaluated in Python.

These lists are small, so the filters Appwrite allows on them (equal, notEqual, ordering,
limit/offset, cursor, search on name) are applied to the answered dicts directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from workbook.local.errors import bad_request, query_invalid

DEFAULT_LIMIT = 25
COUNT_CAP = 5000


def _parse(raw: str) -> dict[str, Any]:
    try:
        query = json.loads(raw)
    except (TypeError, ValueError):
        raise query_invalid(f"Invalid query: Syntax error in query: {raw}") from None
    if not isinstance(query, dict) or not isinstance(query.get("method"), str):
        raise query_invalid(f"Invalid query: Syntax error in query: {raw}")
    return query


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
    search: str | None = None,
    search_fields: Sequence[str] = ("name",),
    with_total: bool = True,
) -> tuple[int, list[dict[str, Any]]]:
    """Filter, order and page `items` as Appwrite's list routes do; returns (total, page)."""
    filters: list[tuple[str, str, list[Any]]] = []
    orders: list[tuple[str, bool]] = []
    limit, offset = DEFAULT_LIMIT, 0
    cursor: tuple[str, bool] | None = None
    for raw in raw_queries:
        query = _parse(raw)
        method = query["method"]
        attribute = query.get("attribute") or ""
        values = query.get("values") or []
        if method in ("limit", "offset"):
            number = values[0] if values else None
            if (
                not isinstance(number, int)
                or isinstance(number, bool)
                or number < (1 if method == "limit" else 0)
            ):
                raise query_invalid(f"Invalid query: Invalid {method} value")
            if method == "limit":
                limit = number
            else:
                offset = number
        elif method in ("cursorAfter", "cursorBefore"):
            if not values or not isinstance(values[0], str):
                raise query_invalid("Invalid query: Invalid cursor value")
            cursor = (values[0], method == "cursorBefore")
        elif method in ("orderAsc", "orderDesc"):
            orders.append((attribute or id_field, method == "orderDesc"))
        elif method == "select":
            continue
        else:
            if attribute not in allowed:
                raise query_invalid(f"Invalid query: Attribute not found in schema: {attribute}")
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
