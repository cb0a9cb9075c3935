"""Cursor paging over raw JSON: the one way Workbook reads lists that can grow.

Raw JSON (``client.call``) rather than the SDK's typed models, which misparse columns and
lose numeric precision; cursors rather than offsets, which Appwrite caps at 5000 rows of
``total`` and which skip or repeat rows when the list changes underneath.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from appwrite.query import Query

PAGE = 100


def raw_get(client: Any, path: str, params: dict[str, Any] | None = None) -> Any:
    """A GET answered as plain JSON; the SDK's services add the project header per call."""
    headers = {
        "content-type": "application/json",
        "X-Appwrite-Project": client.get_config("project"),
    }
    return client.call("get", path, headers, params or {})


def iter_items(
    client: Any, path: str, key: str, queries: Sequence[str] = (), page: int = PAGE
) -> Iterator[dict[str, Any]]:
    """Every item of a list endpoint (``key`` names the list in the answer), page by page."""
    cursor: str | None = None
    while True:
        page_queries = [*queries, Query.limit(page)]
        if cursor is not None:
            page_queries.append(Query.cursor_after(cursor))
        items = raw_get(client, path, {"queries": page_queries, "total": False})[key]
        yield from items
        if len(items) < page:
            return
        cursor = items[-1]["$id"]
