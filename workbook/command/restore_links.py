"""Relationship columns in a restore: checked before anything is written, linked last.

A relationship joins two tables, so it can only come back once both are there, and its rows
can only be linked once the rows on both sides are back. A restore therefore runs in this
order: tables, plain columns (spatial ones included) and rows of every chosen table
(``restore.py``), then here each missing relationship column is recreated from its parent
side (a two-way one brings its other side with it) and the backed-up links are written
row by row (Appwrite refuses bulk writes on tables with relationship columns), each row
keeping its backed-up ``$updatedAt``.

Whether that can work is decided first, from the backup and the live schema, before the
first write (:func:`check_links`): a relationship whose related table is neither in the
target database nor among the tables restored, or whose other side would have to come
from a table left out of the restore, is refused in one line naming table and column.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from appwrite.enums.relation_mutate import RelationMutate
from appwrite.enums.relationship_type import RelationshipType
from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.command.backup_ids import BackedUpIds, pages
from workbook.command.restore import (
    CHECK_PAGE,
    LINK,
    Backup,
    BackupTable,
    _get,
    _wait,
    row_digest,
)
from workbook.core.backup import iter_tables
from workbook.core.client import Target
from workbook.core.paging import iter_items
from workbook.errors import WorkbookError


def _links(definition: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in definition.get("columns", []) if c.get("type") == LINK]


def _live_tables(target: Target, database: str) -> dict[str, dict[str, Any]]:
    try:
        return {t["$id"]: t for t in iter_tables(target.client, database)}
    except AppwriteException as exc:
        if exc.code == 404:  # --into-database a database that does not exist yet
            return {}
        raise


def check_links(target: Target, backup: Backup, database: str | None = None) -> None:
    """Refuse, before anything is written, a relationship column the restore could not
    recreate: its related table missing from the target and from the restore, its other
    side's table left out, or a live column of that key that is not the same relationship."""
    database = database or target.environment.database
    live = _live_tables(target, database)
    chosen = {t.id: t for t in backup.tables}
    for table in backup.tables:
        have = {c["key"]: c for c in (live.get(table.id) or {}).get("columns", [])}
        for column in _links(table.definition):
            key, related = column["key"], column.get("relatedTable")
            where = f"relationship column {table.id}.{key}"
            now = have.get(key)
            if now is not None:
                if now.get("type") != LINK or now.get("relatedTable") != related:
                    raise WorkbookError(
                        f"cannot restore {where}: the table has a column {key} that is not "
                        f"the relationship to {related} it was",
                        f"delete or rename {table.id}.{key} first, then run the restore again",
                    )
                continue
            if related not in live and related not in chosen:
                raise WorkbookError(
                    f"cannot restore {where}: its related table {related} is neither in "
                    f"database '{database}' nor among the tables restored",
                    f"restore {related} too (--table {related}), or restore without "
                    f"{table.id} (--table for each other table)",
                )
            if column.get("side") == "child":
                parent = chosen.get(str(related))
                parent_key = column.get("twoWayKey")
                sides = {c["key"] for c in _links(parent.definition)} if parent else set()
                if parent_key not in sides:
                    raise WorkbookError(
                        f"cannot restore {where}: it is the other side of {related}.{parent_key}, "
                        f"and {related} is not among the tables restored",
                        f"restore {related} too (--table {related})",
                    )


def restore_links(
    target: Target, table: BackupTable, restored: set[str], database: str | None = None
) -> list[str]:
    """Recreate the table's missing relationship columns (parent side) and write its
    backed-up links; returns what was done, in the words the CLI prints. ``restored`` are
    the tables of this restore: a two-way link is written from its parent side only when
    that side is restored too."""
    database = database or target.environment.database
    columns = _links(table.definition)
    if not columns:
        return []
    path = f"/tablesdb/{database}/tables/{table.id}"
    have = {c["key"] for c in (_get(target, path) or {}).get("columns", [])}
    actions = []
    for column in columns:
        if column["key"] in have or column.get("side") == "child":
            continue  # the child side comes with its parent's two-way column
        target.tables.create_relationship_column(
            database,
            table.id,
            column["relatedTable"],
            RelationshipType(column["relationType"]),
            two_way=bool(column.get("twoWay")),
            key=column["key"],
            two_way_key=column.get("twoWayKey") if column.get("twoWay") else None,
            on_delete=RelationMutate(column.get("onDelete") or "restrict"),
        )
        _wait(target, f"{path}/columns/{column['key']}", gone=False)
        actions.append(
            f"recreated relationship column {column['key']} "
            f"({column['relationType']} → {column['relatedTable']})"
        )
    writes = [
        c["key"]
        for c in columns
        if c.get("side") != "child" or str(c.get("relatedTable")) not in restored
    ]
    linked = 0
    for row_id, values in _backed_up_links(table, writes):
        target.tables.update_row(database, table.id, row_id, values)
        linked += 1
    if linked:
        actions.append(f"linked {linked} row(s) through {', '.join(writes)}")
        checked = check_links_back(target, database, table, writes)
        actions.append(f"checked: {checked} row(s) linked as backed up (sha256)")
    return actions


def _linked(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """A row's links by key as comparable ids (lists sorted: their order is not data)."""
    found = {}
    for key in keys:
        value = _as_ids(row.get(key))
        if value not in (None, []):
            found[key] = sorted(value) if isinstance(value, list) else value
    return found


def _as_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [v["$id"] if isinstance(v, dict) else v for v in value]
    return value["$id"] if isinstance(value, dict) else value


def check_links_back(target: Target, database: str, table: BackupTable, keys: list[str]) -> int:
    """Read the links back: every backed-up row that had links has exactly those (a sum of
    per-row sha256, so order does not matter); rows without backed-up links are not judged
    (a merge leaves links made since). The linked rows' ids live on disk, not in memory."""
    expected = 0
    with table.path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            links = _linked(row, keys)
            if links:
                digest = row_digest({"$id": row["$id"], **links}, ["$id", *keys])
                expected = (expected + digest) % (1 << 256)
    found = 0
    count = 0
    select = [Query.select(["$id", *(f"{k}.$id" for k in keys)])]
    path = f"/tablesdb/{database}/tables/{table.id}/rows"
    with BackedUpIds(table.path, only=lambda r: bool(_linked(r, keys))) as linked:
        rows = iter_items(target.client, path, "rows", select, page=CHECK_PAGE)
        for page in pages(rows, CHECK_PAGE):
            outside = set(linked.missing([r["$id"] for r in page]))
            for row in page:
                if row["$id"] not in outside:
                    count += 1
                    digest = row_digest({"$id": row["$id"], **_linked(row, keys)}, ["$id", *keys])
                    found = (found + digest) % (1 << 256)
        if count != len(linked) or found != expected:
            raise WorkbookError(
                f"after the restore the links of {table.id} ({', '.join(keys)}) differ from "
                "the backup",
                "run the restore again; if it persists, compare the links with the backup",
            )
    return count


def _backed_up_links(table: BackupTable, keys: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(row id, its non-empty links and backed-up ``$updatedAt``) per row, streamed."""
    with table.path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            values = {k: row[k] for k in keys if row.get(k) not in (None, [])}
            if values:
                yield row["$id"], {**values, "$updatedAt": row.get("$updatedAt")}
