"""Relationship columns and transactions for migration notebooks (a mixin of `Ops`).

`wb.add_relationship(...)` is idempotent and waits like `add_column`; two-way relationships
also put a column on the related table, which a dry run's shadow schema shows too.
`with wb.transaction() as tx:` stages row writes (`tx.update_row(...)`, …) and commits them
together when the block ends, or rolls them back when it raises: a data step that commits
whole or not at all. In a dry run the staged writes become plan steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from appwrite.enums.relation_mutate import RelationMutate
from appwrite.enums.relationship_type import RelationshipType
from appwrite.exception import AppwriteException

from workbook.core.client import step_failed
from workbook.errors import OperationFailed

RELATION_TYPES = ("oneToOne", "oneToMany", "manyToOne", "manyToMany")
ON_DELETE = ("restrict", "cascade", "setNull")
_COMPARED = ("relatedTable", "relationType", "twoWay", "onDelete")


class Transaction:
    """Row writes staged in one Appwrite transaction (database id filled in)."""

    def __init__(self, ops: Any, transaction_id: str | None) -> None:
        self._ops = ops
        self.id = transaction_id
        self.staged = 0

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.id is not None:
            kwargs["transaction_id"] = self.id
        self.staged += 1
        return getattr(self._ops.tables, method)(self._ops.database_id, *args, **kwargs)

    def create_row(self, table_id: str, row_id: str, data: dict[str, Any], **kw: Any) -> Any:
        return self._call("create_row", table_id, row_id, data, **kw)

    def update_row(self, table_id: str, row_id: str, data: dict[str, Any], **kw: Any) -> Any:
        return self._call("update_row", table_id, row_id, data, **kw)

    def upsert_row(self, table_id: str, row_id: str, data: dict[str, Any], **kw: Any) -> Any:
        return self._call("upsert_row", table_id, row_id, data, **kw)

    def delete_row(self, table_id: str, row_id: str) -> Any:
        return self._call("delete_row", table_id, row_id)

    def increment(self, table_id: str, row_id: str, column: str, value: float = 1) -> Any:
        return self._call("increment_row_column", table_id, row_id, column, value)

    def decrement(self, table_id: str, row_id: str, column: str, value: float = 1) -> Any:
        return self._call("decrement_row_column", table_id, row_id, column, value)

    def create_rows(self, table_id: str, rows: list[dict[str, Any]]) -> Any:
        return self._call("create_rows", table_id, rows)

    def upsert_rows(self, table_id: str, rows: list[dict[str, Any]]) -> Any:
        return self._call("upsert_rows", table_id, rows)

    def update_rows(self, table_id: str, data: dict[str, Any], queries: Sequence[str]) -> Any:
        return self._call("update_rows", table_id, data, list(queries))

    def delete_rows(self, table_id: str, queries: Sequence[str]) -> Any:
        return self._call("delete_rows", table_id, list(queries))


class RelationOps:
    """Relationship columns and transactions; mixed into `Ops` (which provides the rest)."""

    tables: Any
    database_id: str
    dry_run: bool
    plan: Any

    def add_relationship(
        self,
        table_id: str,
        related_table_id: str,
        type: str,
        *,
        key: str | None = None,
        two_way: bool = False,
        two_way_key: str | None = None,
        on_delete: str = "restrict",
    ) -> dict[str, Any] | None:
        """Add a relationship column (and, two-way, its twin on the related table) and wait
        for it; an identical one is a no-op, a different one with the key is an error."""
        if type not in RELATION_TYPES:
            raise OperationFailed(
                f"add_relationship {table_id}: unknown type {type!r}",
                hint=f"one of {', '.join(RELATION_TYPES)}",
            )
        if on_delete not in ON_DELETE:
            raise OperationFailed(
                f"add_relationship {table_id}: unknown on_delete {on_delete!r}",
                hint=f"one of {', '.join(ON_DELETE)}",
            )
        key = key or related_table_id
        two_way_key = two_way_key or table_id
        target = f"{table_id}.{key}"
        wanted = {
            "relatedTable": related_table_id,
            "relationType": type,
            "twoWay": two_way,
            "onDelete": on_delete,
        }
        existing = self.column(table_id, key)  # type: ignore[attr-defined]
        if existing is not None:
            diffs = [
                f"{name} is {existing.get(name)!r}, wanted {wanted[name]!r}"
                for name in _COMPARED
                if existing.get(name) != wanted[name]
            ]
            if existing.get("type") != "relationship":
                diffs.insert(0, f"type is {existing.get('type')!r}, wanted 'relationship'")
            if diffs:
                raise OperationFailed(
                    f"column {target} exists but differs: {'; '.join(diffs)}",
                    hint="change it with update_relationship(), or choose another key",
                )
            self._note_noop("add_relationship", target, "relationship exists")  # type: ignore[attr-defined]
            return self.wait_for_column(table_id, key)  # type: ignore[attr-defined]
        stored = {
            "key": key,
            "type": "relationship",
            "required": False,
            "array": False,
            "twoWayKey": two_way_key,
            "side": "parent",
            "status": "available",
            **wanted,
        }
        if self.dry_run:
            shadow, assumes = self._dry_table(table_id)  # type: ignore[attr-defined]
            self.plan.add(
                "add_relationship", target, {**wanted, "twoWayKey": two_way_key, **assumes}
            )
            shadow["columns"].append(stored)
            if two_way:
                related = self._shadow_table(related_table_id)  # type: ignore[attr-defined]
                related["columns"].append(
                    {**stored, "key": two_way_key, "twoWayKey": key, "side": "child",
                     "relatedTable": table_id}
                )  # fmt: skip
            return None
        try:
            self.tables.create_relationship_column(
                self.database_id,
                table_id,
                related_table_id,
                RelationshipType(type),
                two_way=two_way,
                key=key,
                two_way_key=two_way_key,
                on_delete=RelationMutate(on_delete),
            )
        except AppwriteException as exc:
            if exc.type not in ("column_already_exists", "attribute_already_exists"):
                raise step_failed(f"add_relationship {target}", exc) from exc
        return self.wait_for_column(table_id, key)  # type: ignore[attr-defined]

    def update_relationship(
        self,
        table_id: str,
        key: str,
        *,
        on_delete: str | None = None,
        new_key: str | None = None,
    ) -> dict[str, Any] | None:
        """Change a relationship's onDelete or key (both sides); no change is a no-op."""
        target = f"{table_id}.{key}"
        existing = self.column(table_id, key)  # type: ignore[attr-defined]
        if existing is None and new_key and self.column(table_id, new_key) is not None:  # type: ignore[attr-defined]
            self._note_noop("update_relationship", target, f"already renamed to {new_key}")  # type: ignore[attr-defined]
            return self.column(table_id, new_key)  # type: ignore[attr-defined]
        if existing is None or existing.get("type") != "relationship":
            raise OperationFailed(f"update_relationship {target}: no such relationship column")
        if (on_delete in (None, existing.get("onDelete"))) and new_key in (None, key):
            self._note_noop("update_relationship", target, "nothing to change")  # type: ignore[attr-defined]
            return existing
        if self.dry_run:
            self.plan.add("update_relationship", target, {"onDelete": on_delete, "newKey": new_key})
            return None
        try:
            self.tables.update_relationship_column(
                self.database_id,
                table_id,
                key,
                on_delete=RelationMutate(on_delete) if on_delete else None,
                new_key=new_key,
            )
        except AppwriteException as exc:
            raise step_failed(f"update_relationship {target}", exc) from exc
        return self.wait_for_column(table_id, new_key or key)  # type: ignore[attr-defined]

    def delete_relationship(self, table_id: str, key: str) -> None:
        """Delete a relationship column (both sides) and wait until it is gone."""
        self.delete_column(table_id, key)  # type: ignore[attr-defined]

    @contextmanager
    def transaction(self, ttl: int = 300) -> Iterator[Transaction]:
        """Stage the block's row writes in one Appwrite transaction: committed together when
        the block ends, rolled back when it raises (a conflicting commit writes nothing)."""
        if self.dry_run:
            tx = Transaction(self, None)
            yield tx
            self.plan.add("commit_transaction", self.database_id, {"operations": tx.staged})
            return
        try:
            transaction_id = self.tables.create_transaction(ttl=ttl).id
        except AppwriteException as exc:
            raise step_failed("create_transaction", exc) from exc
        tx = Transaction(self, transaction_id)
        try:
            yield tx
        except BaseException:
            # A failed rollback expires on its own; the block's own error is the one to see.
            with suppress(AppwriteException):
                self.tables.update_transaction(transaction_id, rollback=True)
            raise
        try:
            self.tables.update_transaction(transaction_id, commit=True)
        except AppwriteException as exc:
            raise step_failed(f"commit transaction {transaction_id}", exc) from exc
