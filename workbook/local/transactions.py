"""Transactions (`/v1/tablesdb/transactions`), as Appwrite 1.8+ runs them.

A row write that carries `transactionId` is staged, not applied: a row of `wb_transaction_ops`
in request order, answered with a mock (bulk writes with `{total: 0, rows: []}`). Committing
replays the staged operations in order through the ordinary row operations, inside one SQLite
transaction (each replayed write is a savepoint of it), with the staging time as the writes'
timestamp. A row another request changed after an operation was staged makes the commit fail
whole with `transaction_conflict`, as utopia's `withRequestTimestamp` does; any failure leaves
the data untouched and the transaction `failed`. Rollback also sets `failed` (Appwrite has no
code path that sets `rolled_back`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from workbook.local import rows
from workbook.local.errors import AppwriteError, bad_request, conflict, not_found
from workbook.local.params import REQUEST_TIME, format_datetime, is_key, new_uid, now_iso
from workbook.local.state import ServerState
from workbook.local.store import quote

TTL_MIN, TTL_MAX, TTL_DEFAULT = 60, 3600, 300
MAX_OPERATIONS = 100  # Appwrite's default `databasesTransactionSize`
ACTIONS = (
    "create",
    "update",
    "upsert",
    "delete",
    "increment",
    "decrement",
    "bulkCreate",
    "bulkUpdate",
    "bulkUpsert",
    "bulkDelete",
)
ROW_ACTIONS = ("create", "update", "upsert", "delete", "increment", "decrement")
NEEDS_ROW = ("update", "delete", "increment", "decrement")
CREATES = ("create", "upsert")


def transaction_not_found(transaction_id: str) -> AppwriteError:
    return not_found(
        "transaction_not_found",
        f"Transaction with the requested ID '{transaction_id}' could not be found.",
    )


def _expired() -> AppwriteError:
    return AppwriteError(410, "transaction_expired", "Transaction has expired.")


def _body(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "$id": row["id"],
        "$createdAt": row["created_at"],
        "$updatedAt": row["updated_at"],
        "status": row["status"],
        "operations": row["operations"],
        "expiresAt": row["expires_at"],
    }


def _row(conn: sqlite3.Connection, transaction_id: str) -> sqlite3.Row:
    found = conn.execute("SELECT * FROM wb_transactions WHERE id = ?", (transaction_id,)).fetchone()
    if found is None:
        raise transaction_not_found(transaction_id)
    return found


def _is_expired(row: sqlite3.Row) -> bool:
    return now_iso() > row["expires_at"]


def _set_status(conn: sqlite3.Connection, transaction_id: str, status: str) -> sqlite3.Row:
    conn.execute(
        "UPDATE wb_transactions SET status = ?, updated_at = ? WHERE id = ?",
        (status, now_iso(), transaction_id),
    )
    return _row(conn, transaction_id)


# --- the transaction resource -----------------------------------------------------------------


def create(state: ServerState, ttl: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    expires = format_datetime(now + timedelta(seconds=ttl))
    stamp = format_datetime(now)
    transaction_id = new_uid()
    with state.store.write() as conn:
        conn.execute(
            "INSERT INTO wb_transactions (id, status, operations, expires_at, created_at, "
            "updated_at) VALUES (?, 'pending', 0, ?, ?, ?)",
            (transaction_id, expires, stamp, stamp),
        )
        return _body(_row(conn, transaction_id))


def get(state: ServerState, transaction_id: str) -> dict[str, Any]:
    with state.store.read() as conn:
        return _body(_row(conn, transaction_id))


def list_all(state: ServerState) -> list[dict[str, Any]]:
    with state.store.read() as conn:
        found = conn.execute("SELECT * FROM wb_transactions ORDER BY created_at, id").fetchall()
    return [_body(row) for row in found]


def delete(state: ServerState, transaction_id: str) -> None:
    with state.store.write() as conn:
        _row(conn, transaction_id)
        conn.execute("DELETE FROM wb_transaction_ops WHERE txn_id = ?", (transaction_id,))
        conn.execute("DELETE FROM wb_transactions WHERE id = ?", (transaction_id,))


# --- staging ----------------------------------------------------------------------------------


def _pending(conn: sqlite3.Connection, transaction_id: str) -> sqlite3.Row:
    row = _row(conn, transaction_id)
    if row["status"] != "pending":
        raise bad_request("transaction_invalid", "Invalid or non-pending transaction")
    if _is_expired(row):
        raise _expired()
    return row


def _view_exists(
    conn: sqlite3.Connection,
    state: ServerState,
    transaction_id: str,
    database_id: str,
    table_id: str,
    row_id: str,
    staged: Sequence[tuple[str, str, str, str | None]],
) -> bool:
    """Whether `row_id` exists in the transaction's view: stored, or created by an operation
    staged before (in this transaction or earlier in the same request), and not deleted since."""
    schema = state.tables.get(conn, database_id, table_id)
    exists = (
        conn.execute(f"SELECT 1 FROM {schema.ref.sql} WHERE _uid = ?", (row_id,)).fetchone()
        is not None
    )
    earlier = conn.execute(
        "SELECT action, database_id, table_id, row_id FROM wb_transaction_ops "
        "WHERE txn_id = ? ORDER BY position",
        (transaction_id,),
    ).fetchall()
    for action, db, table, staged_id in [*map(tuple, earlier), *staged]:
        if (db, table, staged_id) != (database_id, table_id, row_id):
            continue
        if action in CREATES:
            exists = True
        elif action == "delete":
            exists = False
    return exists


Operation = dict[str, Any]


def stage(state: ServerState, transaction_id: str, operations: Sequence[Operation]) -> int:
    """Add operations to a pending transaction (all or none); answers its new count."""
    if not operations:
        raise bad_request("general_argument_invalid", "Operations array cannot be empty")
    stamp = now_iso()
    with state.store.write() as conn:
        row = _pending(conn, transaction_id)
        existing = row["operations"]
        if existing + len(operations) > MAX_OPERATIONS:
            raise bad_request(
                "transaction_limit_exceeded",
                f"Transaction already has {existing} operations, adding {len(operations)} "
                f"would exceed the maximum of {MAX_OPERATIONS}",
            )
        staged: list[tuple[str, str, str, str | None]] = []
        for op in operations:
            action, database_id, table_id, row_id = (
                op["action"],
                op["databaseId"],
                op["tableId"],
                op.get("rowId"),
            )
            schema = state.tables.get(conn, database_id, table_id)
            if action.startswith("bulk") and schema.relations:
                raise bad_request(  # Appwrite names the id param (getGroupId), not the table
                    "general_bad_request",
                    "Bulk operations are not supported for tableId with relationship attributes",
                )
            if action in NEEDS_ROW and not _view_exists(
                conn, state, transaction_id, database_id, table_id, str(row_id), staged
            ):
                raise rows.row_not_found(str(row_id))
            staged.append((action, database_id, table_id, row_id))
        position = conn.execute(
            "SELECT COALESCE(MAX(position), 0) FROM wb_transaction_ops WHERE txn_id = ?",
            (transaction_id,),
        ).fetchone()[0]
        conn.executemany(
            "INSERT INTO wb_transaction_ops (txn_id, position, action, database_id, table_id, "
            "row_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    transaction_id,
                    position + n + 1,
                    op["action"],
                    op["databaseId"],
                    op["tableId"],
                    op.get("rowId"),
                    json.dumps(op.get("data")),
                    stamp,
                )
                for n, op in enumerate(operations)
            ],
        )
        total = existing + len(operations)
        conn.execute(
            "UPDATE wb_transactions SET operations = ?, updated_at = ? WHERE id = ?",
            (total, stamp, transaction_id),
        )
    return total


def check_operations(value: object) -> list[Operation]:
    """The `operations` param of createOperations, validated like Appwrite's Operation."""
    if not isinstance(value, list):
        raise bad_request("general_argument_invalid", "Invalid `operations` param")
    checked: list[Operation] = []
    for n, op in enumerate(value):
        if not isinstance(op, dict):
            raise bad_request("general_argument_invalid", f"Operation at index {n} is invalid")
        action = op.get("action")
        if action not in ACTIONS:
            raise bad_request(
                "general_argument_invalid",
                f"Invalid `operations` param: Invalid action '{action}' at index {n}",
            )
        for field in ("databaseId", "tableId"):
            if not is_key(op.get(field)):
                raise bad_request(
                    "general_argument_invalid",
                    f"Invalid `operations` param: Missing or invalid {field} at index {n}",
                )
        if action in ROW_ACTIONS and not is_key(op.get("rowId")):
            raise bad_request(
                "general_argument_invalid",
                f"Invalid `operations` param: Missing or invalid rowId at index {n}",
            )
        if action not in ("delete", "bulkDelete") and op.get("data") is None:
            raise bad_request(
                "general_argument_invalid",
                f"Invalid `operations` param: Missing data at index {n}",
            )
        checked.append(op)
    return checked


def mock_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any] | None,
    permissions: list[str] | None,
) -> dict[str, Any]:
    """What a staged single-row write answers: the row as it would be, without a sequence."""
    try:
        body = rows.get_row(state, database_id, table_id, row_id, [])
    except AppwriteError:
        now = now_iso()
        body = {
            "$id": row_id,
            "$sequence": "0",
            "$tableId": table_id,
            "$databaseId": database_id,
            "$createdAt": now,
            "$updatedAt": now,
            "$permissions": [],
        }
    for key, value in (data or {}).items():
        if key[:1] != "$" and not (isinstance(value, str) and value.startswith('{"method"')):
            body[key] = value
    if permissions is not None:
        body["$permissions"] = permissions
    return body


# --- commit -----------------------------------------------------------------------------------


def _changed_since(
    conn: sqlite3.Connection, state: ServerState, op: sqlite3.Row, row_ids: Sequence[str]
) -> bool:
    schema = state.tables.get(conn, op["database_id"], op["table_id"])
    if not row_ids:
        return False
    marks = ", ".join("?" for _ in row_ids)
    found = conn.execute(
        f"SELECT 1 FROM {schema.ref.sql} WHERE {quote('_uid')} IN ({marks}) "
        "AND _updatedAt > ? LIMIT 1",
        [*row_ids, op["created_at"]],
    ).fetchone()
    return found is not None


def _matched_ids(
    conn: sqlite3.Connection, state: ServerState, op: sqlite3.Row, queries: Sequence[str]
) -> list[str]:
    schema = state.tables.get(conn, op["database_id"], op["table_id"])
    return [row[1] for row in rows.matching(conn, schema, queries)]


def _apply(state: ServerState, op: sqlite3.Row) -> None:
    action, db, table, row_id = op["action"], op["database_id"], op["table_id"], op["row_id"]
    data = json.loads(op["data"]) if op["data"] else None
    body = data if isinstance(data, dict) else {}
    permissions = body.get("$permissions") if isinstance(body, dict) else None
    user = {k: v for k, v in body.items() if k != "$permissions"} if body else {}
    if action == "create":
        rows.create_row(state, db, table, row_id, user, _checked(permissions))
    elif action == "update":
        rows.update_row(state, db, table, row_id, user, _checked(permissions))
    elif action == "upsert":
        rows.upsert_row(state, db, table, row_id, user, _checked(permissions))
    elif action == "delete":
        rows.delete_row(state, db, table, row_id)
    elif action in ("increment", "decrement"):
        column = body.get("column", body.get("attribute"))
        value = body.get("value", 1)
        bound = body.get("max" if action == "increment" else "min")
        sign = 1 if action == "increment" else -1
        rows.increment(state, db, table, row_id, str(column), sign * value, bound)
    elif action == "bulkCreate":
        rows.create_rows(state, db, table, data if isinstance(data, list) else body.get("rows"))
    elif action == "bulkUpsert":
        rows.upsert_rows(state, db, table, data if isinstance(data, list) else body.get("rows"))
    elif action == "bulkUpdate":
        rows.update_rows(state, db, table, body.get("data") or {}, body.get("queries") or [])
    elif action == "bulkDelete":
        rows.delete_rows(state, db, table, body.get("queries") or [])


def _checked(permissions: object) -> list[str] | None:
    return None if permissions is None else rows.check_permissions(permissions)


def _replay(
    state: ServerState, conn: sqlite3.Connection, transaction_id: str, check_conflicts: bool = True
) -> None:
    operations = conn.execute(
        "SELECT * FROM wb_transaction_ops WHERE txn_id = ? ORDER BY position", (transaction_id,)
    ).fetchall()
    written: set[tuple[str, str, str]] = set()
    for op in operations:
        action, key = op["action"], (op["database_id"], op["table_id"], op["row_id"])
        if not check_conflicts:
            pass
        elif action in ("update", "upsert", "delete", "increment", "decrement"):
            if key not in written and _changed_since(conn, state, op, [op["row_id"]]):
                raise conflict("transaction_conflict", "Transaction has a conflict.")
        elif action in ("bulkUpdate", "bulkDelete"):
            data = json.loads(op["data"]) if op["data"] else {}
            ids = _matched_ids(conn, state, op, (data or {}).get("queries") or [])
            fresh = [i for i in ids if (op["database_id"], op["table_id"], i) not in written]
            if _changed_since(conn, state, op, fresh):
                raise conflict("transaction_conflict", "Transaction has a conflict.")
        token = REQUEST_TIME.set(op["created_at"])
        try:
            _apply(state, op)
        finally:
            REQUEST_TIME.reset(token)
        if op["row_id"]:
            written.add(key)


_MAPPED: dict[str, Callable[[AppwriteError], AppwriteError]] = {
    "row_already_exists": lambda e: conflict("transaction_conflict", e.message),
    "row_unique_constraint_violation": lambda e: conflict("transaction_conflict", e.message),
}


def finish(state: ServerState, transaction_id: str, commit: bool, rollback: bool) -> dict[str, Any]:
    """Commit (replay every staged operation, all or nothing) or roll back."""
    if not commit and not rollback:
        raise bad_request("general_bad_request", "Either commit or rollback must be true")
    if commit and rollback:
        raise bad_request("general_bad_request", "Cannot commit and rollback at the same time")
    with state.store.write() as conn:
        row = _row(conn, transaction_id)
        if row["status"] != "pending":
            raise bad_request(
                "transaction_not_ready", "Transaction is not ready to be committed or rolled back."
            )
        if _is_expired(row):
            raise _expired()
        if rollback:
            return _body(_set_status(conn, transaction_id, "failed"))
    try:
        with state.store.write() as conn:
            _replay(state, conn, transaction_id)
            return _body(_set_status(conn, transaction_id, "committed"))
    except AppwriteError as error:
        with state.store.write() as conn:
            _set_status(conn, transaction_id, "failed")
        mapped = _MAPPED.get(error.type)
        raise (mapped(error) if mapped else error) from None


class _ReadDone(Exception):
    """Unwinds a transaction's read view (its replayed writes are rolled back)."""


def read_view(state: ServerState, transaction_id: str, read: Callable[[], Any]) -> Any:
    """`read()` as the transaction sees the data: its staged operations replayed on top of
    the stored rows, then undone (Appwrite's read-your-own-writes `TransactionState`)."""
    result: list[Any] = []
    try:
        with state.store.write() as conn:
            row = _row(conn, transaction_id)
            if row["status"] == "pending" and not _is_expired(row):
                _replay(state, conn, transaction_id, check_conflicts=False)
            result.append(read())
            raise _ReadDone
    except _ReadDone:
        pass
    return result[0]
