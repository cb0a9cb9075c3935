"""Relationship columns: their definitions, the links behind them, and onDelete.

Every relationship keeps its links in one junction table `j_<seq>` of (parent, child) row ids,
whatever its type; the type only decides how many links each side may hold and whether a side
reads as one id or a list. The parent side's column lives on the table it was created on, the
child side's (two-way only, as Appwrite lists it) on the related table; both definitions carry
the junction's name. Rows read their relationships only when a `select` names them
(`author.*`, `author.company.*`), as Appwrite 1.8+ does, three levels of rows deep at most
(utopia's RELATION_MAX_DEPTH); writes create or update nested related rows (relateDocuments);
filters reach one-valued sides by id and any side through a dotted path (`author.name`).

Appwrite refuses no cycle of `cascade` relationships: utopia stops a cascading delete when a
relationship already on its delete stack comes back, so each reachable row is deleted once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbook.local.errors import AppwriteError, appwrite_error, bad_request, conflict
from workbook.local.meta import TableRef, load_columns, table_ref
from workbook.local.params import bool_param, is_key, key_param, new_uid, now_iso, text_param
from workbook.local.queries import RelationSpec
from workbook.local.store import quote

MAX_DEPTH = 3  # utopia's RELATION_MAX_DEPTH: levels of rows a read or a nested write reaches
TYPES = ("oneToOne", "oneToMany", "manyToOne", "manyToMany")
ON_DELETE = ("cascade", "restrict", "setNull")
Column = dict[str, Any]


def _choice(params: Mapping[str, Any], name: str, allowed: Sequence[str], default: Any) -> str:
    value = params.get(name)
    if value is None and default is not None:
        return default
    if value not in allowed:
        raise bad_request(
            "general_argument_invalid",
            f"Invalid `{name}` param: Value must be one of ({', '.join(allowed)})",
        )
    return str(value)


def many(column: Mapping[str, Any]) -> bool:
    """Whether this side reads as a list of related rows."""
    kind, parent = column["relationType"], column["side"] == "parent"
    return (
        kind == "manyToMany"
        or (kind == "oneToMany" and parent)
        or (kind == "manyToOne" and not parent)
    )


def _restricts(column: Mapping[str, Any]) -> bool:
    """Whether `restrict` refuses deleting a linked row on this side (utopia's deleteRestrict:
    the parent side of oneToOne, oneToMany and manyToMany, the child side of manyToOne)."""
    parent = column["side"] == "parent"
    return not parent if column["relationType"] == "manyToOne" else parent


def _cascades(column: Mapping[str, Any]) -> bool:
    """Whether `cascade` deletes the linked rows (utopia's deleteCascade: both sides of
    oneToOne, the parent side of oneToMany and manyToMany, the child side of manyToOne)."""
    kind, parent = column["relationType"], column["side"] == "parent"
    if kind == "oneToOne":
        return True
    return not parent if kind == "manyToOne" else parent


def _junction_sql(column: Mapping[str, Any]) -> str:
    return quote(column["junction"])


def _mine_other(column: Mapping[str, Any]) -> tuple[str, str]:
    return ("parent", "child") if column["side"] == "parent" else ("child", "parent")


# --- schema -----------------------------------------------------------------------------------


def create(
    conn: sqlite3.Connection,
    state: Any,
    ref: TableRef,
    params: Mapping[str, Any],
    record: Any,
) -> Column:
    """Validate `POST …/columns/relationship`, create the junction and record both sides."""
    related_id = text_param(params, "relatedTableId", max_len=36)
    kind = _choice(params, "type", TYPES, None)
    two_way = bool_param(params, "twoWay", default=False)
    on_delete = _choice(params, "onDelete", ON_DELETE, "restrict")
    related = table_ref(conn, ref.db_id, related_id) if is_key(related_id) else None
    if related is None:
        raise appwrite_error("table_not_found", str(related_id))
    key = key_param(params, "key") if params.get("key") is not None else related.id
    two_way_key = key_param(params, "twoWayKey") if params.get("twoWayKey") is not None else ref.id
    mine = load_columns(conn, ref.seq)
    theirs = load_columns(conn, related.seq)
    if any(c.key.lower() == key.lower() for c in mine):
        raise appwrite_error("column_already_exists", key)
    for item in mine:
        other = item.definition
        if other["type"] != "relationship" or other["relatedTable"] != related.id:
            continue
        if kind == "manyToMany" and other["relationType"] == "manyToMany":
            raise conflict(
                "column_already_exists",
                'Creating more than one "manyToMany" relationship on the same table is '
                "currently not permitted.",
            )
        if other["twoWayKey"].lower() == two_way_key.lower():
            raise appwrite_error("column_already_exists", two_way_key)
    if (
        two_way
        and any(c.key.lower() == two_way_key.lower() for c in theirs)
        and not (related.seq == ref.seq and two_way_key.lower() == key.lower())
    ):
        raise appwrite_error("column_already_exists", two_way_key)
    junction = f"j_{ref.seq}_{time.time_ns() % 10**12:x}"
    conn.execute(
        f"CREATE TABLE {quote(junction)} (parent TEXT NOT NULL, child TEXT NOT NULL, "
        "PRIMARY KEY (parent, child))"
    )
    conn.execute(f"CREATE INDEX {quote(junction + '_child')} ON {quote(junction)} (child)")
    parent: Column = {
        "key": key,
        "type": "relationship",
        "required": False,
        "array": False,
        "relatedTable": related.id,
        "relationType": kind,
        "twoWay": two_way,
        "twoWayKey": two_way_key,
        "onDelete": on_delete,
        "side": "parent",
        "junction": junction,
    }
    record(ref, parent)
    if two_way:
        child = {
            **parent,
            "key": two_way_key,
            "relatedTable": ref.id,
            "twoWayKey": key,
            "side": "child",
        }
        record(related, child)
    return parent


def _other_side(conn: sqlite3.Connection, ref: TableRef, column: Column) -> tuple[TableRef, str]:
    related = table_ref(conn, ref.db_id, column["relatedTable"])
    return related, column["twoWayKey"]


def _rewrite(
    conn: sqlite3.Connection, table_seq: int, key: str, definition: Column, new_key: str
) -> None:
    conn.execute(
        "UPDATE wb_columns SET key = ?, definition = ?, updated_at = ? "
        "WHERE table_seq = ? AND key = ?",
        (new_key, json.dumps(definition), now_iso(), table_seq, key),
    )


def update(
    conn: sqlite3.Connection, ref: TableRef, column: Column, params: Mapping[str, Any]
) -> Column:
    """`PATCH …/columns/{key}/relationship`: onDelete and newKey, kept on both sides."""
    on_delete = _choice(params, "onDelete", ON_DELETE, column["onDelete"])
    new_key = key_param(params, "newKey") if params.get("newKey") is not None else column["key"]
    if new_key.lower() != column["key"].lower() and any(
        c.key.lower() == new_key.lower() for c in load_columns(conn, ref.seq)
    ):
        raise appwrite_error("column_already_exists", new_key)
    updated = {**column, "onDelete": on_delete, "key": new_key}
    _rewrite(conn, ref.seq, column["key"], updated, new_key)
    related, other_key = _other_side(conn, ref, column)
    for item in load_columns(conn, related.seq):
        other = item.definition
        if other.get("junction") == column["junction"] and other["key"] == other_key:
            changed = {**other, "onDelete": on_delete, "twoWayKey": new_key}
            _rewrite(conn, related.seq, other_key, changed, other_key)
    if column["side"] == "child":
        return updated
    return updated


def delete(conn: sqlite3.Connection, state: Any, ref: TableRef, column: Column, mark: Any) -> None:
    """Delete both sides of a relationship and its links."""
    related, other_key = _other_side(conn, ref, column)
    for item in load_columns(conn, related.seq):
        if item.definition.get("junction") == column["junction"] and item.key == other_key:
            mark(related, other_key)
    mark(ref, column["key"])
    conn.execute(f"DROP TABLE IF EXISTS {_junction_sql(column)}")


# --- rows: writing links ----------------------------------------------------------------------


def _invalid(message: str) -> AppwriteError:
    return bad_request("relationship_value_invalid", message)


CUSTOM_ID = (
    "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, "
    "and underscore. Can't start with a special char"
)
NestedWriter = Callable[[Mapping[str, Any], dict[str, Any]], str]


def _nested_id(item: dict[str, Any]) -> dict[str, Any]:
    """A nested row as Appwrite's Create action prepares it: `$id` given (or `unique()`, a new
    id) and a valid custom id (Documents/Action::validateRelationship)."""
    row_id = item.get("$id")
    if row_id is None or row_id == "unique()":
        return {**item, "$id": new_uid()}
    if not isinstance(row_id, str):
        raise _invalid("Relationship $id must be a string")
    if not is_key(row_id):
        raise _invalid(CUSTOM_ID)
    return item


PHP_TYPES = {str: "string", dict: "object"}  # what utopia's gettype() names in its messages


def check_values(value: Any) -> None:
    """Appwrite's Documents action validates every related value before utopia sees it
    (`validateRelationship`): an id or a nested row's `$id` must be a valid custom id, and
    anything else than an id or an object is refused. So an atomic operator (a JSON string;
    `parseOperators` skips relationship columns) is refused as an invalid id, on every side."""
    if not value:  # PHP's empty(): null, "", [], 0 and false are left to utopia
        return
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item_id = item.get("$id")
        elif isinstance(item, str):
            item_id = item
        else:
            raise _invalid(
                "Relationship value must be an object, document ID string, or associative array"
            )
        if item_id is None or item_id == "unique()":
            continue
        if not isinstance(item_id, str):
            raise _invalid("Relationship $id must be a string")
        if not is_key(item_id):
            raise _invalid(CUSTOM_ID)


def link_ids(
    column: Mapping[str, Any], value: Any, nested: NestedWriter, *, updating: bool = False
) -> list[str]:
    """The related ids a row write gives: ids as they are, nested rows (objects) created or
    updated in the related table by `nested`, as utopia's relateDocuments does."""
    check_values(value)
    if value is None:
        return []
    if updating and many(column) and not isinstance(value, list):
        given = PHP_TYPES.get(type(value), "string")  # updateDocument's comparison says so
        raise _invalid(
            f"Invalid relationship value. Must be either an array of documents or document IDs, "
            f"{given} given."
        )
    if isinstance(value, list):
        if not many(column):
            raise _invalid(
                "Invalid relationship value. Must be either a document ID or a document, "
                "array given."
            )
        items = value
    elif many(column):
        given = "document ID" if isinstance(value, str) else "document"
        raise _invalid(
            "Invalid relationship value. Must be either an array of documents or document IDs, "
            f"{given} given."
        )
    else:
        items = [value]
    ids: list[str] = []
    for item in items:
        if isinstance(item, dict):
            ids.append(nested(column, _nested_id(item)))
            continue
        if isinstance(item, list):
            raise _invalid(
                "Relationship value must be an object, document ID string, or associative array"
            )
        if not isinstance(item, str):
            raise _invalid(
                "Invalid relationship value. Must be either a document, document ID, or an "
                "array of documents or document IDs."
            )
        if not is_key(item):
            raise _invalid(CUSTOM_ID)
        ids.append(item)
    return list(dict.fromkeys(ids))


def taken(
    conn: sqlite3.Connection, column: Mapping[str, Any], row_id: str, ids: Sequence[str]
) -> bool:
    """Whether any of `ids` is linked already from another row of this side, or (from the
    child side, whose write sets the parent's unique key without clearing the old parent's)
    this row is linked already to another parent."""
    if not ids:
        return False
    mine, other = _mine_other(column)
    marks = ", ".join("?" for _ in ids)
    table = _junction_sql(column)
    found = conn.execute(
        f"SELECT 1 FROM {table} WHERE {other} IN ({marks}) AND {mine} != ? LIMIT 1",
        [*ids, row_id],
    ).fetchone()
    if found is None and column["side"] == "child":
        found = conn.execute(
            f"SELECT 1 FROM {table} WHERE {mine} = ? AND {other} NOT IN ({marks}) LIMIT 1",
            [row_id, *ids],
        ).fetchone()
    return found is not None


def link_statements(
    column: Mapping[str, Any], row_id: str, ids: Sequence[str]
) -> list[tuple[str, list[Any]]]:
    """SQL that makes `row_id`'s links on this side exactly `ids` (and keeps one-sides single)."""
    table = _junction_sql(column)
    mine, other = _mine_other(column)
    statements: list[tuple[str, list[Any]]] = [(f"DELETE FROM {table} WHERE {mine} = ?", [row_id])]
    # The other side's rows may hold one link only when this side is a "one" side for them.
    other_single = not many({**column, "side": "child" if mine == "parent" else "parent"})
    for related in ids:
        if other_single:
            statements.append((f"DELETE FROM {table} WHERE {other} = ?", [related]))
        parent, child = (row_id, related) if mine == "parent" else (related, row_id)
        statements.append(
            (f"INSERT OR IGNORE INTO {table} (parent, child) VALUES (?, ?)", [parent, child])
        )
    return statements


# --- rows: reading links ----------------------------------------------------------------------


def related_ids(
    conn: sqlite3.Connection, column: Mapping[str, Any], row_ids: Sequence[str]
) -> dict[str, list[str]]:
    mine, other = _mine_other(column)
    found: dict[str, list[str]] = {row_id: [] for row_id in row_ids}
    if not row_ids:
        return found
    marks = ", ".join("?" for _ in row_ids)
    for me, them in conn.execute(
        f"SELECT {mine}, {other} FROM {_junction_sql(column)} WHERE {mine} IN ({marks}) "
        "ORDER BY rowid",
        list(row_ids),
    ):
        found[me].append(them)
    return found


def query_specs(relations: Mapping[str, Column]) -> dict[str, RelationSpec]:
    """The table's relationships as query filters see them (a "many" side is virtual)."""
    specs: dict[str, RelationSpec] = {}
    for key, column in relations.items():
        mine, other = _mine_other(column)
        specs[key] = RelationSpec(
            key, _junction_sql(column), mine, other, many(column), column["relatedTable"]
        )
    return specs


# --- rows: onDelete ---------------------------------------------------------------------------


def touching(conn: sqlite3.Connection, ref: TableRef) -> list[Column]:
    """Every relationship a row of this table takes part in, as seen from this table's side
    (one-way relationships created elsewhere included)."""
    seen: set[str] = set()
    result: list[Column] = []
    for item in load_columns(conn, ref.seq):
        definition = item.definition
        if definition["type"] == "relationship" and item.status != "deleting":
            seen.add(definition["junction"])
            result.append(definition)
    for (text,) in conn.execute(
        "SELECT c.definition FROM wb_columns c JOIN wb_tables t ON t.seq = c.table_seq "
        "WHERE t.db_seq = ? AND c.status != 'deleting' AND c.definition LIKE '%\"relationship\"%'",
        (ref.db_seq,),
    ):
        definition = json.loads(text)
        if (
            definition.get("type") == "relationship"
            and definition["side"] == "parent"
            and definition["relatedTable"] == ref.id
            and definition["junction"] not in seen
        ):
            seen.add(definition["junction"])
            child = {**definition, "side": "child", "relatedTable": "", "key": ""}
            child["relatedTable"] = _table_of(conn, ref.db_seq, definition)
            result.append(child)
    return result


def _table_of(conn: sqlite3.Connection, db_seq: int, definition: Column) -> str:
    row = conn.execute(
        "SELECT t.id FROM wb_columns c JOIN wb_tables t ON t.seq = c.table_seq "
        "WHERE t.db_seq = ? AND c.definition LIKE ? AND c.key = ?",
        (db_seq, f'%"{definition["junction"]}"%', definition["key"]),
    ).fetchone()
    return row[0] if row else ""


def _existing(conn: sqlite3.Connection, related: TableRef, ids: list[str]) -> list[str]:
    if not ids:
        return ids
    marks = ", ".join("?" for _ in ids)
    found = {
        row[0]
        for row in conn.execute(f"SELECT _uid FROM {related.sql} WHERE _uid IN ({marks})", ids)
    }
    return [i for i in ids if i in found]


def on_delete(
    conn: sqlite3.Connection,
    ref: TableRef,
    row_ids: Sequence[str],
    delete_related: Any,
    visited: set[tuple[int, str]],
) -> None:
    """Apply each relationship's onDelete for rows about to be deleted from `ref`'s table.

    Appwrite does not refuse a cycle of cascades (utopia's createRelationship has no such
    check): on delete, utopia follows cascades until a relationship already on its delete
    stack comes back (the same one, or its other side), so every row the cascades reach is
    deleted once and the delete ends. `visited` (rows already being deleted) does the same."""
    if not row_ids:
        return
    for column in touching(conn, ref):
        links = related_ids(conn, column, row_ids)
        linked = sorted({i for ids in links.values() for i in ids})
        related = table_ref(conn, ref.db_id, column["relatedTable"])
        # a stored id whose row is missing restricts nothing (utopia reads an empty Document)
        linked = _existing(conn, related, linked)
        if column["onDelete"] == "restrict" and _restricts(column) and linked:
            raise AppwriteError(
                403,
                "row_delete_restricted",
                "Row cannot be deleted because it is referenced by another row.",
            )
        mine, _ = _mine_other(column)
        marks = ", ".join("?" for _ in row_ids)
        conn.execute(
            f"DELETE FROM {_junction_sql(column)} WHERE {mine} IN ({marks})", list(row_ids)
        )
        if column["onDelete"] == "cascade" and _cascades(column):
            todo = [i for i in linked if (related.seq, i) not in visited]
            visited.update((related.seq, i) for i in todo)
            delete_related(related, todo, visited)
