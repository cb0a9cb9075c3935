"""Rows: utopia's Structure validation, defaults, the real SQL writes, and Appwrite's Row shape."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from workbook.local import columns as cols
from workbook.local.errors import AppwriteError, appwrite_error, bad_request, invalid_argument
from workbook.local.meta import TableRef, available_columns, fulltext_keys, table_ref
from workbook.local.params import is_key, new_uid, now_iso, parse_datetime
from workbook.local.queries import ColumnSpec, build_list_sql, build_where, parse_queries
from workbook.local.state import ServerState
from workbook.local.store import quote

BATCH_LIMIT = 100
STRIPPED = ("$sequence", "$databaseId", "$tableId", "$collectionId", "$collection")
_PERMISSION_RE = re.compile(r'^(read|create|update|delete|write)\(".+"\)$')

Columns = list[dict[str, Any]]


def structure_error(reason: str) -> AppwriteError:
    return bad_request("row_invalid_structure", f"Invalid document structure: {reason}")


def row_not_found(row_id: str) -> AppwriteError:
    return appwrite_error("row_not_found", row_id)


def check_permissions(
    permissions: object, param: str = "permissions", *, table: bool = False
) -> list[str]:
    """Validate permission strings; `write(role)` becomes update and delete (and create, on a
    table), as utopia's Permission::aggregate does."""
    if not isinstance(permissions, list) or len(permissions) > 100 or not all(
        isinstance(p, str) and _PERMISSION_RE.match(p) for p in permissions
    ):
        raise invalid_argument(
            param,
            "Permissions must be an array of strings like read(\"any\"), no longer than 100 "
            "items.",
        )
    expanded: list[str] = []
    for permission in permissions:
        if permission.startswith("write("):
            role = permission[len("write"):]
            expanded += [f"create{role}"] if table else []
            expanded += [f"update{role}", f"delete{role}"]
        else:
            expanded.append(permission)
    return list(dict.fromkeys(expanded))


def _specs(columns: Columns) -> dict[str, ColumnSpec]:
    return {
        c["key"]: ColumnSpec(c["key"], c["type"], bool(c.get("array")), c.get("format"))
        for c in columns
    }


def row_body(ref: TableRef, columns: Columns, row: Mapping[str, Any]) -> dict[str, Any]:
    """Appwrite's Row: system fields (`$sequence` as a string) then the user columns."""
    keys = set(row.keys()) if hasattr(row, "keys") else set(row)
    body: dict[str, Any] = {"$id": row["_uid"]}
    if "_seq" in keys:
        body["$sequence"] = str(row["_seq"])
    body["$tableId"] = ref.id
    body["$databaseId"] = ref.db_id
    if "_createdAt" in keys:
        body["$createdAt"] = row["_createdAt"]
    if "_updatedAt" in keys:
        body["$updatedAt"] = row["_updatedAt"]
    if "_permissions" in keys:
        body["$permissions"] = json.loads(row["_permissions"] or "[]")
    for column in columns:
        if column["key"] in keys:
            body[column["key"]] = cols.decode_value(column, row[column["key"]])
    return body


def _split_system(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """User values and the `$` fields a client may set ($id, $permissions, dates)."""
    user: dict[str, Any] = {}
    system: dict[str, Any] = {}
    for key, value in data.items():
        if key in STRIPPED:
            continue
        if key in ("$id", "$permissions", "$createdAt", "$updatedAt"):
            system[key] = value
        elif key.startswith("$"):
            raise structure_error(f'Unknown attribute: "{key}"')
        else:
            user[key] = value
    return user, system


def _prepare(columns: Columns, data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate user values; a full write also fills defaults and checks required columns."""
    by_key = {c["key"]: c for c in columns}
    for key in data:
        if key not in by_key:
            raise structure_error(f'Unknown attribute: "{key}"')
    values: dict[str, Any] = {}
    for column in columns:
        key = column["key"]
        if partial and key not in data:
            continue
        value = data.get(key)
        if value is None and column.get("default") is not None:
            value = column["default"]
        if value is None:
            if column["required"]:
                raise structure_error(f'Missing required attribute "{key}"')
            values[key] = None
            continue
        problem = cols.value_problem(column, value)
        if problem:
            raise structure_error(problem)
        values[key] = cols.encode_value(column, value)
    return values


def _dates(system: Mapping[str, Any]) -> dict[str, str]:
    dates: dict[str, str] = {}
    for key, sql in (("$createdAt", "_createdAt"), ("$updatedAt", "_updatedAt")):
        value = system.get(key)
        if value is None:
            continue
        normalized = parse_datetime(value)
        if normalized is None:
            raise structure_error(
                f'Attribute "{key}" has invalid type. Value must be valid date between '
                "0000-01-01 00:00:00 and 9999-12-31 23:59:59."
            )
        dates[sql] = normalized
    return dates


def _integrity(exc: sqlite3.IntegrityError, row_id: str) -> AppwriteError:
    if "._uid" in str(exc):
        return appwrite_error("row_already_exists", row_id)
    return appwrite_error("row_unique_constraint_violation")


def _load(conn: sqlite3.Connection, ref: TableRef, row_id: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT * FROM {ref.sql} WHERE _uid = ?", (row_id,)).fetchone()


def _insert(
    conn: sqlite3.Connection,
    ref: TableRef,
    columns: Columns,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> sqlite3.Row:
    user, system = _split_system(data)
    row_id = _row_id(system.get("$id", row_id))
    if permissions is None:
        permissions = check_permissions(system.get("$permissions", []), "$permissions")
    values = _prepare(columns, user, partial=False)
    now = now_iso()
    dates = {"_createdAt": now, "_updatedAt": now, **_dates(system)}
    record = {"_uid": row_id, **dates, "_permissions": json.dumps(permissions), **values}
    names = ", ".join(quote(k) for k in record)
    marks = ", ".join("?" for _ in record)
    try:
        conn.execute(f"INSERT INTO {ref.sql} ({names}) VALUES ({marks})", list(record.values()))
    except sqlite3.IntegrityError as exc:
        raise _integrity(exc, row_id) from None
    row = _load(conn, ref, row_id)
    assert row is not None
    return row


def _update(
    conn: sqlite3.Connection,
    ref: TableRef,
    columns: Columns,
    existing: sqlite3.Row,
    data: Mapping[str, Any],
    permissions: list[str] | None,
    *,
    partial: bool = True,
    whole_row: bool = True,
) -> sqlite3.Row:
    """Write `data` over `existing`. `whole_row` validates the merged row as utopia's
    updateDocument does; bulk updates (`updateDocuments`) check only the given values."""
    user, system = _split_system(data)
    if permissions is None and "$permissions" in system:
        permissions = check_permissions(system["$permissions"], "$permissions")
    values = _prepare(columns, user, partial=partial)
    for column in columns if whole_row else ():
        if column["required"] and column["key"] not in values and existing[column["key"]] is None:
            raise structure_error(f'Missing required attribute "{column["key"]}"')
    dates = {"_updatedAt": now_iso(), **_dates(system)}
    record: dict[str, Any] = {**dates, **values}
    if permissions is not None:
        record["_permissions"] = json.dumps(permissions)
    assignments = ", ".join(f"{quote(k)} = ?" for k in record)
    try:
        conn.execute(
            f"UPDATE {ref.sql} SET {assignments} WHERE _seq = ?",
            [*record.values(), existing["_seq"]],
        )
    except sqlite3.IntegrityError as exc:
        raise _integrity(exc, existing["_uid"]) from None
    row = conn.execute(f"SELECT * FROM {ref.sql} WHERE _seq = ?", (existing["_seq"],)).fetchone()
    assert row is not None
    return row


def _row_id(value: object) -> str:
    if value == "unique()" or value is None or value == "":
        return new_uid()
    if not is_key(value):
        raise invalid_argument(
            "rowId",
            "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, "
            "hyphen, and underscore. Can't start with a special char",
        )
    assert isinstance(value, str)
    return value


def _merged(columns: Columns, existing: sqlite3.Row, data: Mapping[str, Any]) -> dict[str, Any]:
    """An upsert of an existing row: the given values over the stored optional ones. Like
    utopia's upsertDocuments, required columns are not carried over: they must be given."""
    merged = {
        c["key"]: cols.decode_value(c, existing[c["key"]]) for c in columns if not c["required"]
    }
    merged.update(data)
    return merged


# --- routes' operations ---------------------------------------------------------------------

def _select_keys(raw_queries: Sequence[str]) -> list[str] | None:
    selected: list[str] | None = None
    for query in parse_queries(raw_queries):
        if query.method == "select":
            selected = (selected or []) + [str(v) for v in query.values]
    return selected


def _project(body: dict[str, Any], columns: Columns, selected: list[str] | None) -> dict:
    if selected is None or "*" in selected:
        return body
    keep = set(selected)
    return {k: v for k, v in body.items() if k.startswith("$") or k in keep}


def list_rows(
    state: ServerState, database_id: str, table_id: str, raw_queries: Sequence[str],
    with_total: bool = True,
) -> dict[str, Any]:
    queries = parse_queries(raw_queries)
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)

        def load_cursor_row(row_id: str) -> Mapping[str, object] | None:
            row = _load(conn, ref, row_id)
            return dict(row) if row is not None else None

        plan = build_list_sql(
            ref.sql, _specs(columns), queries,
            load_cursor_row=load_cursor_row, fulltext=fulltext_keys(conn, ref),
        )
        rows = conn.execute(plan.sql, plan.params).fetchall()
        if plan.reverse:
            rows.reverse()
        total = conn.execute(plan.count_sql, plan.count_params).fetchone()[0] if with_total else 0
        bodies = [_project(row_body(ref, columns, r), columns, plan.select) for r in rows]
    return {"total": total, "rows": bodies}


def get_row(
    state: ServerState, database_id: str, table_id: str, row_id: str, raw_queries: Sequence[str]
) -> dict[str, Any]:
    selected = _select_keys(raw_queries)
    with state.store.read() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        row = _load(conn, ref, row_id)
        if row is None:
            raise row_not_found(row_id)
        return _project(row_body(ref, columns, row), columns, selected)


def create_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        row = _insert(conn, ref, columns, row_id, data, permissions)
        return row_body(ref, columns, row)


def _batch(rows: object) -> list[Mapping[str, Any]]:
    if not isinstance(rows, list) or len(rows) > BATCH_LIMIT:
        raise invalid_argument(
            "rows", f"Value must a valid array no longer than {BATCH_LIMIT} items"
        )
    for item in rows:
        if not isinstance(item, dict):
            raise invalid_argument("rows", "Value must be a valid array of JSON objects")
    return rows


def create_rows(
    state: ServerState, database_id: str, table_id: str, rows: object
) -> dict[str, Any]:
    batch = _batch(rows)
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        created = [_insert(conn, ref, columns, "unique()", item, None) for item in batch]
        return {"total": len(created), "rows": [row_body(ref, columns, r) for r in created]}


def _upsert_one(
    conn: sqlite3.Connection,
    ref: TableRef,
    columns: Columns,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> sqlite3.Row:
    existing = _load(conn, ref, row_id)
    if existing is None:
        return _insert(conn, ref, columns, row_id, data, permissions)
    user, system = _split_system(data)
    merged = {**_merged(columns, existing, user), **system}
    merged.pop("$id", None)
    return _update(conn, ref, columns, existing, merged, permissions, partial=False)


def upsert_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        row = _upsert_one(conn, ref, columns, row_id, data, permissions)
        return row_body(ref, columns, row)


def upsert_rows(
    state: ServerState, database_id: str, table_id: str, rows: object
) -> dict[str, Any]:
    batch = _batch(rows)
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        done = [
            _upsert_one(conn, ref, columns, _row_id(item.get("$id")), item, None)
            for item in batch
        ]
        return {"total": len(done), "rows": [row_body(ref, columns, r) for r in done]}


def update_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    if not data and permissions is None:
        raise appwrite_error("row_missing_payload")
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        existing = _load(conn, ref, row_id)
        if existing is None:
            raise row_not_found(row_id)
        payload = {k: v for k, v in data.items() if k != "$id"}
        row = _update(conn, ref, columns, existing, payload, permissions)
        return row_body(ref, columns, row)


def _matching(
    conn: sqlite3.Connection, ref: TableRef, columns: Columns, raw_queries: Sequence[str]
) -> list[sqlite3.Row]:
    queries = parse_queries(raw_queries)
    where, params = build_where(
        _specs(columns), queries, table_sql=ref.sql, fulltext=fulltext_keys(conn, ref)
    )
    limit = next((q.values[0] for q in queries if q.method == "limit" and q.values), -1)
    offset = next((q.values[0] for q in queries if q.method == "offset" and q.values), 0)
    return conn.execute(
        f"SELECT * FROM {ref.sql} WHERE {where} ORDER BY _seq LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()


def update_rows(
    state: ServerState,
    database_id: str,
    table_id: str,
    data: Mapping[str, Any],
    raw_queries: Sequence[str],
) -> dict[str, Any]:
    """Bulk update by query; like Appwrite, answers the full count but at most 100 rows."""
    payload = {k: v for k, v in data.items() if k != "$id"}
    if not payload:
        raise appwrite_error("row_missing_payload")
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        targets = _matching(conn, ref, columns, raw_queries)
        updated = [
            _update(conn, ref, columns, row, payload, None, whole_row=False) for row in targets
        ]
        return {
            "total": len(updated),
            "rows": [row_body(ref, columns, r) for r in updated[:BATCH_LIMIT]],
        }


def delete_row(state: ServerState, database_id: str, table_id: str, row_id: str) -> None:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        if conn.execute(f"DELETE FROM {ref.sql} WHERE _uid = ?", (row_id,)).rowcount == 0:
            raise row_not_found(row_id)


def delete_rows(
    state: ServerState, database_id: str, table_id: str, raw_queries: Sequence[str]
) -> dict[str, Any]:
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        targets = _matching(conn, ref, columns, raw_queries)
        conn.executemany(f"DELETE FROM {ref.sql} WHERE _seq = ?", [(r["_seq"],) for r in targets])
        return {
            "total": len(targets),
            "rows": [row_body(ref, columns, r) for r in targets[:BATCH_LIMIT]],
        }


def increment(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    key: str,
    value: float,
    bound: float | None,
) -> dict[str, Any]:
    """Add `value` (negative to decrement) to a numeric column, refusing to cross `bound`.

    Errors follow Appwrite's Increment/Decrement actions: an unknown row or column is
    `row_not_found` (utopia's NotFoundException), a non-number column `column_type_invalid`,
    crossing the bound `column_limit_exceeded`.
    """
    with state.store.write() as conn:
        ref = table_ref(conn, database_id, table_id)
        columns = available_columns(conn, ref)
        existing = _load(conn, ref, row_id)
        column = next((c for c in columns if c["key"] == key), None)
        if existing is None or column is None:
            raise row_not_found(row_id)
        if column["type"] not in ("integer", "bigint", "double") or column.get("array"):
            raise bad_request("column_type_invalid", f'Column "{key}" is not a number')
        result = (existing[key] or 0) + value
        if column["type"] != "double":
            result = int(result)
        if bound is not None and (result > bound if value >= 0 else result < bound):
            edge = "maximum" if value >= 0 else "minimum"
            bound_text = int(bound) if float(bound).is_integer() else bound
            raise bad_request(
                "column_limit_exceeded",
                f'Column "{key}" has reached the {edge} value of {bound_text}',
            )
        problem = cols.value_problem(column, result)
        if problem:
            raise structure_error(problem)
        conn.execute(
            f"UPDATE {ref.sql} SET {quote(key)} = ?, _updatedAt = ? WHERE _seq = ?",
            (result, now_iso(), existing["_seq"]),
        )
        row = _load(conn, ref, row_id)
        assert row is not None
        return row_body(ref, columns, row)
