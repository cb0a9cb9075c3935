"""The backfill loop, once: rows read, changed by the user's function, written in batches.

A plain backfill, a partitioned chunk and a chunk inside a transaction differ only in how
a batch is written (bulk upsert, per-row update, staged in a transaction) and in what is
counted on the way, so they share this loop and the rule for a bulk write's row shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# Fields Appwrite sets itself: a whole row written back by bulk upsert must leave them out.
SYSTEM_ROW_FIELDS = ("$sequence", "$tableId", "$databaseId", "$collectionId", "$updatedAt")

Change = tuple[dict[str, Any], dict[str, Any]]  # (the row as read, the changes to it)
RowFn = Callable[[dict[str, Any]], dict[str, Any] | None]


def whole_rows(batch: Iterable[Change]) -> list[dict[str, Any]]:
    """Each read row merged with its changes, in the shape a bulk upsert accepts: correct
    whether the server merges partial rows or replaces them."""
    return [
        {k: v for k, v in {**row, **changes}.items() if k not in SYSTEM_ROW_FIELDS}
        for row, changes in batch
    ]


def apply_in_batches(
    rows: Iterable[dict[str, Any]],
    fn: RowFn,
    write_size: int,
    flush: Callable[[list[Change]], None] | None,
    on_row: Callable[[], None] | None = None,
) -> tuple[int, int]:
    """Run ``fn`` over ``rows``; every ``write_size`` changed rows go to ``flush`` (None: a
    dry run, which only counts). Returns (rows scanned, rows changed)."""
    scanned = changed = 0
    pending: list[Change] = []
    for row in rows:
        scanned += 1
        if on_row is not None:
            on_row()
        changes = fn(dict(row))
        if not changes:
            continue
        changed += 1
        if flush is None:
            continue
        pending.append((row, changes))
        if len(pending) >= write_size:
            flush(pending)
            pending = []
    if pending and flush is not None:
        flush(pending)
    return scanned, changed
