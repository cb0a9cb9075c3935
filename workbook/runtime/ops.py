"""What a migration notebook calls: idempotent schema and data steps that wait for Appwrite.

Every schema change in Appwrite is asynchronous (`processing` → `available`/`failed`), and
a migration that dies half way must be safe to run again. So each step reads the live
state first, does only what is missing, and waits (bounded) until Appwrite reports the
result. In a dry run the same reads happen, writes become plan steps, and a shadow copy
of each touched table lets later steps see what earlier ones would have done.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from workbook.core.client import GONE_TYPES, hint_for, is_gone, one_line, step_failed
from workbook.core.columns import (
    NUMERIC,
    SIZED,
    ColumnSpec,
    IndexSpec,
    column_kind,
    same_value,
    update_method,
)
from workbook.core.paging import iter_items, raw_get
from workbook.errors import OperationFailed
from workbook.runtime.dryrun import NO_OP, DryRunProxy, Plan
from workbook.runtime.expect import Expectations
from workbook.runtime.ops_relations import RelationOps
from workbook.runtime.progress import Progress, Waiting
from workbook.runtime.row_batches import Change, apply_in_batches, whole_rows

KEEP: Any = type("Keep", (), {"__repr__": lambda self: "KEEP"})()
"""Sentinel for `update_column(default=KEEP)`: leave the current default as it is."""

BULK_LIMIT = 100
_FAILED = ("failed", "stuck")
_COLLECTIONS = {"column": "columns", "index": "indexes"}


class Ops(RelationOps, Expectations):
    """The operations of a migration notebook, against one database (and the
    ``expect_*`` checks of its result, from ``workbook.runtime.expect``)."""

    def __init__(
        self,
        tables: TablesDB | DryRunProxy,
        database_id: str,
        *,
        dry_run: bool = False,
        plan: Plan | None = None,
        poll_interval: float = 0.1,
        timeout: float = 120.0,
    ) -> None:
        if isinstance(tables, DryRunProxy):
            dry_run = True
            plan = plan if plan is not None else tables.plan
        self.plan = plan if plan is not None else Plan()
        if dry_run and not isinstance(tables, DryRunProxy):
            tables = DryRunProxy(tables, self.plan)
        self.tables: Any = tables
        self.database_id = database_id
        self.dry_run = dry_run
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._shadow: dict[str, dict[str, Any] | None] = {}
        self._planned_tables: set[str] = set()
        self.renames: dict[tuple[str, str], str] = {}  # (table, old key) → new key

    # ----------------------------------------------------------------- raw reads

    def _path(self, *parts: str) -> str:
        return "/".join(("/tablesdb", self.database_id, *parts))

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A GET through `client.call`: plain JSON, exact numbers, None when the thing is gone."""
        try:
            return raw_get(self.tables.client, path, params)
        except AppwriteException as exc:
            if exc.code == 404 and exc.type in GONE_TYPES:
                return None
            message = f"reading {path} failed: {one_line(exc)}"
            raise OperationFailed(message, hint=hint_for(exc)) from exc

    def table(self, table_id: str) -> dict[str, Any] | None:
        """The table's JSON (columns and indexes included), or None if it does not exist."""
        if table_id in self._shadow:
            return copy.deepcopy(self._shadow[table_id])
        return self._get(self._path("tables", table_id))

    def column(self, table_id: str, key: str) -> dict[str, Any] | None:
        """The column's JSON as Appwrite stores it, or None. Not the typed SDK model: see
        the reference (§0) on list models parsing columns into wrong classes."""
        if table_id in self._shadow:
            return copy.deepcopy(_find(self._shadow[table_id], "columns", key))
        return self._get(self._path("tables", table_id, "columns", key))

    def index(self, table_id: str, key: str) -> dict[str, Any] | None:
        """The index's JSON, or None."""
        if table_id in self._shadow:
            return copy.deepcopy(_find(self._shadow[table_id], "indexes", key))
        return self._get(self._path("tables", table_id, "indexes", key))

    # ----------------------------------------------------------------- tables

    def create_table(
        self,
        table_id: str,
        name: str | None = None,
        *,
        columns: Iterable[dict[str, Any]] = (),
        indexes: Iterable[dict[str, Any]] = (),
        row_security: bool = False,
        permissions: list[str] | None = None,
    ) -> dict[str, Any] | None:
        """Create a table with its columns and indexes in one call; if it exists, add what
        is missing and check that what is there matches.

        Appwrite builds inline columns atomically, so a re-run finds all or none of them.
        A later step of the same migration that renames or deletes one of these columns
        would see it re-added on a re-run: put such a step in a later migration.
        """
        column_specs = [ColumnSpec.from_dict(item) for item in columns]
        index_specs = [IndexSpec.from_dict(item) for item in indexes]
        if self.table(table_id) is None:
            detail = {
                "name": name or table_id,
                "columns": [spec.inline() for spec in column_specs],
                "indexes": [spec.inline() for spec in index_specs],
                "row_security": row_security,
                "permissions": permissions,
            }
            if self.dry_run:
                self.plan.add("create_table", table_id, detail)
                self._shadow[table_id] = {
                    "$id": table_id,
                    "name": name or table_id,
                    "rowSecurity": row_security,
                    "$permissions": permissions or [],
                    "columns": [spec.stored() for spec in column_specs],
                    "indexes": [spec.stored() for spec in index_specs],
                }
                self._planned_tables.add(table_id)
                return None
            created = True
            try:
                self.tables.create_table(
                    self.database_id,
                    table_id,
                    name or table_id,
                    permissions=permissions,
                    row_security=row_security,
                    columns=[spec.inline() for spec in column_specs] or None,
                    indexes=[spec.inline() for spec in index_specs] or None,
                )
            except AppwriteException as exc:
                if exc.type != "table_already_exists":
                    raise step_failed(f"create_table {table_id}", exc) from exc
                created = False
            if created:
                return self.wait_for_table(table_id)
        else:
            self._note_noop("create_table", table_id, "table exists")
        for spec in column_specs:
            self._ensure_column(table_id, spec)
        for spec in index_specs:
            self._ensure_index(table_id, spec)
        return None if self.dry_run else self.table(table_id)

    def delete_table(self, table_id: str) -> None:
        """Delete a table and its rows; a table already gone is fine."""
        if self.table(table_id) is None:
            self._note_noop("delete_table", table_id, "table does not exist")
            return
        if self.dry_run:
            self.plan.add("delete_table", table_id)
            self._shadow[table_id] = None
            return
        try:
            self.tables.delete_table(self.database_id, table_id)
        except AppwriteException as exc:
            if not is_gone(exc):
                raise step_failed(f"delete_table {table_id}", exc) from exc
        self._wait_gone(f"table {table_id}", lambda: self.table(table_id))

    def wait_for_table(self, table_id: str) -> dict[str, Any]:
        """Wait until every column and index of the table is `available`."""
        if self.dry_run:
            return self.table(table_id) or {}

        def probe() -> dict[str, Any] | None:
            table = self.table(table_id)
            if table is None:
                raise OperationFailed(f"table {table_id} does not exist")
            for kind in ("columns", "indexes"):
                for item in table.get(kind) or []:
                    label = "column" if kind == "columns" else "index"
                    what = f"{label} {table_id}.{item.get('key')}"
                    _raise_if_failed(what, item, table_id, item.get("key"), kind)
                    if item.get("status") != "available":
                        return None
            return table

        return self._poll(f"table {table_id}", probe)

    # ----------------------------------------------------------------- columns

    def add_column(
        self,
        table_id: str,
        key: str,
        type: str,
        *,
        required: bool = False,
        default: Any = None,
        array: bool = False,
        size: int | None = None,
        min: int | float | None = None,
        max: int | float | None = None,
        elements: Sequence[str] | None = None,
    ) -> dict[str, Any] | None:
        """Add a column and wait until it is available. An identical column is a no-op;
        a different one with the same key is an error naming what differs."""
        spec = ColumnSpec.build(
            key,
            type,
            required=required,
            default=default,
            array=array,
            size=size,
            min=min,
            max=max,
            elements=elements,
        )
        return self._ensure_column(table_id, spec)

    def _ensure_column(self, table_id: str, spec: ColumnSpec) -> dict[str, Any] | None:
        def create() -> None:
            create_method = getattr(self.tables, spec.create_method)
            create_method(self.database_id, table_id, spec.key, **spec.sdk_arguments())

        return self._ensure_item(
            "column",
            table_id,
            spec,
            detail={"type": spec.type, **spec.sdk_arguments()},
            create=create,
            already=("column_already_exists", "attribute_already_exists"),
            hint="change it with update_column(), or choose another key",
        )

    def update_column(
        self,
        table_id: str,
        key: str,
        *,
        required: bool | None = None,
        default: Any = KEEP,
        size: int | None = None,
        min: int | float | None = None,
        max: int | float | None = None,
        elements: Sequence[str] | None = None,
        new_key: str | None = None,
    ) -> dict[str, Any] | None:
        """Change a column in place (Appwrite's PATCH, synchronous). Arguments left out keep
        their current value; a change already made is a no-op."""
        return self._update_column(
            "update_column",
            table_id,
            key,
            required=required,
            default=default,
            size=size,
            min=min,
            max=max,
            elements=elements,
            new_key=new_key,
        )

    def _update_column(
        self,
        operation: str,
        table_id: str,
        key: str,
        *,
        required: bool | None = None,
        default: Any = KEEP,
        size: int | None = None,
        min: int | float | None = None,
        max: int | float | None = None,
        elements: Sequence[str] | None = None,
        new_key: str | None = None,
    ) -> dict[str, Any] | None:
        target = f"{table_id}.{key}"
        current = self.column(table_id, key)
        if current is None and new_key:
            current = self.column(table_id, new_key)
            if current is not None:
                key, new_key, target = new_key, None, f"{table_id}.{new_key}"
        if current is None and self.dry_run:
            given = {
                "required": required,
                "size": size,
                "min": min,
                "max": max,
                "elements": list(elements) if elements is not None else None,
                "new_key": new_key,
            }
            detail = {k: v for k, v in given.items() if v is not None}
            if default is not KEEP:
                detail["default"] = default
            detail["assumes"] = f"column {target} exists by then (it does not yet)"
            self.plan.add(operation, target, detail)
            return None
        if current is None:
            raise OperationFailed(f"column {target} does not exist")
        if current.get("status") != "available":
            current = self.wait_for_column(table_id, key) if not self.dry_run else current
        kind = column_kind(current)
        method = update_method(current)
        _check_update_options(target, kind, size=size, min=min, max=max, elements=elements)
        wanted_required = bool(current.get("required")) if required is None else required
        if default is KEEP:
            wanted_default = None if wanted_required else current.get("default")
        else:
            wanted_default = default
        changes: dict[str, Any] = {}
        if wanted_required != bool(current.get("required")):
            changes["required"] = wanted_required
        if not same_value(kind, current.get("default"), wanted_default):
            changes["default"] = wanted_default
        for name, value in (("size", size), ("min", min), ("max", max)):
            if value is not None and not same_value(kind, current.get(name), value):
                changes[name] = value
        wanted_elements = list(elements) if elements is not None else current.get("elements")
        if elements is not None and list(elements) != list(current.get("elements") or []):
            changes["elements"] = list(elements)
        if new_key and new_key != key:
            changes["new_key"] = new_key
        if not changes:
            self._note_noop(operation, target, "column already as wanted")
            return current
        if self.dry_run:
            self.plan.add(operation, target, changes)
            shadow = _find(self._shadow_table(table_id), "columns", key)
            if shadow is not None:
                shadow.update({"required": wanted_required, "default": wanted_default})
                shadow.update({k: v for k, v in changes.items() if k in ("size", "min", "max")})
                if "elements" in changes:
                    shadow["elements"] = changes["elements"]
                if new_key:
                    shadow["key"] = new_key
            return None
        arguments: dict[str, Any] = {"required": wanted_required, "default": wanted_default}
        arguments.update({k: v for k, v in changes.items() if k in ("size", "min", "max")})
        if kind == "enum":
            arguments["elements"] = wanted_elements
        if new_key:
            arguments["new_key"] = new_key
        try:
            getattr(self.tables, method)(self.database_id, table_id, key, **arguments)
        except AppwriteException as exc:
            raise step_failed(f"{operation} {target}", exc) from exc
        return self.wait_for_column(table_id, new_key or key)

    def rename_column(self, table_id: str, key: str, new_key: str) -> dict[str, Any] | None:
        """Rename a column; already renamed is a no-op."""
        if self.column(table_id, key) is None and self.column(table_id, new_key) is not None:
            self._note_noop("rename_column", f"{table_id}.{key}", f"already renamed to {new_key}")
            return self.column(table_id, new_key)
        self.renames[(table_id, key)] = new_key  # a schema diff cannot tell, the run can
        return self._update_column("rename_column", table_id, key, new_key=new_key)

    def delete_column(self, table_id: str, key: str) -> None:
        """Delete a column and wait until Appwrite has removed it; already gone is a no-op."""
        self._delete_item("column", table_id, key)

    def wait_for_column(self, table_id: str, key: str) -> dict[str, Any]:
        """Poll until the column is `available`; raise on `failed`, `stuck` or timeout."""
        return self._wait_item("column", table_id, key)

    # ----------------------------------------------------------------- indexes

    def add_index(
        self,
        table_id: str,
        key: str,
        type: str,
        columns: Sequence[str],
        orders: Sequence[str] | None = None,
    ) -> dict[str, Any] | None:
        """Add an index and wait for it; an identical index is a no-op."""
        return self._ensure_index(table_id, IndexSpec.build(key, type, columns, orders))

    def _ensure_index(self, table_id: str, spec: IndexSpec) -> dict[str, Any] | None:
        def create() -> None:
            orders = list(spec.orders) if spec.orders else None
            self.tables.create_index(
                self.database_id, table_id, spec.key, spec.type, list(spec.columns), orders=orders
            )

        detail = {
            "type": spec.type,
            "columns": list(spec.columns),
            "orders": list(spec.orders or ()),
        }
        return self._ensure_item(
            "index",
            table_id,
            spec,
            detail=detail,
            create=create,
            already=("column_index_already_exists", "index_already_exists"),
            hint="delete_index() it first, or choose another key",
        )

    def delete_index(self, table_id: str, key: str) -> None:
        """Delete an index and wait until it is gone; already gone is a no-op."""
        self._delete_item("index", table_id, key)

    def wait_for_index(self, table_id: str, key: str) -> dict[str, Any]:
        """Poll until the index is `available`; raise on `failed`, `stuck` or timeout."""
        return self._wait_item("index", table_id, key)

    # ------------------------------------------------- columns and indexes alike

    def _read_item(self, kind: str, table_id: str, key: str) -> dict[str, Any] | None:
        return self.column(table_id, key) if kind == "column" else self.index(table_id, key)

    def _ensure_item(
        self,
        kind: str,
        table_id: str,
        spec: ColumnSpec | IndexSpec,
        *,
        detail: dict[str, Any],
        create: Callable[[], None],
        already: tuple[str, ...],
        hint: str,
    ) -> dict[str, Any] | None:
        """Create a column or index unless an identical one exists, then wait for it."""
        target = f"{table_id}.{spec.key}"
        existing = self._read_item(kind, table_id, spec.key)
        if existing is not None and existing.get("status") == "deleting" and not self.dry_run:
            self._wait_gone(f"{kind} {target}", lambda: self._read_item(kind, table_id, spec.key))
            existing = None
        if existing is not None:
            diffs = spec.differences(existing)
            if diffs:
                raise OperationFailed(
                    f"{kind} {target} exists but differs: {'; '.join(diffs)}", hint=hint
                )
            self._note_noop(f"add_{kind}", target, f"{kind} exists")
            return self._wait_item(kind, table_id, spec.key)
        if self.dry_run:
            shadow, assumes = self._dry_table(table_id)
            self.plan.add(f"add_{kind}", target, {**detail, **assumes})
            shadow[_COLLECTIONS[kind]].append(spec.stored())
            return None
        try:
            create()
        except AppwriteException as exc:
            if exc.type not in already:
                raise step_failed(f"add_{kind} {target}", exc) from exc
        return self._wait_item(kind, table_id, spec.key)

    def _delete_item(self, kind: str, table_id: str, key: str) -> None:
        """Delete a column or index (Appwrite does it asynchronously) and wait until gone."""
        target = f"{table_id}.{key}"
        existing = self._read_item(kind, table_id, key)
        if existing is None:
            self._note_noop(f"delete_{kind}", target, f"{kind} does not exist")
            return
        collection = _COLLECTIONS[kind]
        if self.dry_run:
            self.plan.add(f"delete_{kind}", target)
            table = self._shadow_table(table_id)
            table[collection] = [i for i in table[collection] if i.get("key") != key]
            return
        if existing.get("status") != "deleting":
            try:
                getattr(self.tables, f"delete_{kind}")(self.database_id, table_id, key)
            except AppwriteException as exc:
                if not is_gone(exc):
                    raise step_failed(f"delete_{kind} {target}", exc) from exc
        self._wait_gone(f"{kind} {target}", lambda: self._read_item(kind, table_id, key))

    def _wait_item(self, kind: str, table_id: str, key: str) -> dict[str, Any]:
        if self.dry_run:
            return self._read_item(kind, table_id, key) or {}
        target = f"{table_id}.{key}"

        def probe() -> dict[str, Any] | None:
            item = self._read_item(kind, table_id, key)
            if item is None:
                raise OperationFailed(f"{kind} {target} does not exist")
            _raise_if_failed(f"{kind} {target}", item, table_id, key, _COLLECTIONS[kind])
            return item if item.get("status") == "available" else None

        return self._poll(f"{kind} {target}", probe)

    # ----------------------------------------------------------------- rows

    def iter_rows(
        self, table_id: str, queries: Sequence[str] = (), batch_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every row matching `queries`, as plain JSON dicts, one page in memory at a time
        (cursor paging, so it stays correct past Appwrite's 5000-row `total` cap)."""
        paging = _query_methods(queries) & {"limit", "offset", "cursorAfter", "cursorBefore"}
        if paging:
            raise OperationFailed(
                f"iter_rows {table_id}: queries may not contain {', '.join(sorted(paging))}",
                hint="it pages by itself; use batch_size= for the page size",
            )
        if table_id in self._planned_tables:
            return
        path = self._path("tables", table_id, "rows")
        try:
            yield from iter_items(self.tables.client, path, "rows", queries, batch_size)
        except AppwriteException as exc:
            if exc.code == 404 and exc.type in GONE_TYPES:
                raise OperationFailed(f"table {table_id} does not exist") from exc
            raise OperationFailed(
                f"reading {path} failed: {one_line(exc)}", hint=hint_for(exc)
            ) from exc

    def backfill(
        self,
        table_id: str,
        fn: Callable[[dict[str, Any]], dict[str, Any] | None],
        *,
        queries: Sequence[str] = (),
        batch_size: int = 100,
        partitions: int | None = None,
        transaction: bool = False,
        cluster: Any = None,
        name: str | None = None,
    ) -> int:
        """Compute new values row by row and write them back; returns how many rows changed.

        Writes go in bulk `upsert_rows` batches of whole rows (the read row merged with the
        changes): one request per batch instead of one per row, and correct whether the
        server merges partial rows or replaces them. Tables with relationship columns
        cannot take bulk writes in Appwrite, so those get per-row `update_row` with just
        the changes; so do backfills whose queries `select` some columns (the rows read are
        partial). In a dry run nothing is written and one plan step gives the count.

        `partitions=N` (or `transaction=True`) splits the table into `$sequence` chunks that
        are recorded when finished, so a re-run resumes; they run on a Dask cluster when one
        is at hand (`cluster=`), and with `transaction=True` each chunk commits whole or not
        at all (workbook/runtime/backfill.py).
        """
        table = self.table(table_id)
        if self.dry_run and (table is None or table_id in self._planned_tables):
            note = f"table {table_id} does not exist yet, so its rows are unknown"
            self.plan.add("backfill", table_id, {"rows": None, "scanned": 0, "assumes": note})
            return 0
        if table is None:
            raise OperationFailed(f"backfill {table_id}: table does not exist")
        per_row = _selects(queries) or any(
            c.get("type") == "relationship" for c in (table or {}).get("columns", [])
        )
        if partitions is not None or transaction:
            from workbook.runtime.backfill import partitioned_backfill

            return partitioned_backfill(
                self, table_id, fn, partitions=1 if partitions is None else partitions,
                queries=queries, batch_size=batch_size, per_row=per_row,
                transaction=transaction, cluster=cluster, name=name,
            )  # fmt: skip
        progress = Progress(f"backfill {table_id}", "rows")
        scanned, changed = apply_in_batches(
            self.iter_rows(table_id, queries, batch_size),
            fn,
            max(1, min(batch_size, BULK_LIMIT)),
            None if self.dry_run else (lambda batch: self._write_back(table_id, batch, per_row)),
            on_row=progress.update,
        )
        progress.close()
        if self.dry_run:
            self.plan.add(
                "backfill",
                table_id,
                {"rows": changed, "scanned": scanned},
                effect="change" if changed else NO_OP,
            )
        return changed

    def _write_back(self, table_id: str, batch: list[Change], per_row: bool) -> None:
        try:
            if per_row:
                for row, changes in batch:
                    self.tables.update_row(self.database_id, table_id, row["$id"], data=changes)
                return
            self.tables.upsert_rows(self.database_id, table_id, whole_rows(batch))
        except AppwriteException as exc:
            first = batch[0][0].get("$id")
            raise step_failed(f"backfill {table_id} (batch from row {first})", exc) from exc

    # ----------------------------------------------------------------- helpers

    def _note_noop(self, operation: str, target: str, reason: str) -> None:
        if self.dry_run:
            self.plan.add(operation, target, {"reason": reason}, effect=NO_OP)

    def dry_run_state(self) -> dict[str, Any]:
        """What this dry run would have changed, for the next migration's dry run to start
        from (each migration runs in its own kernel)."""
        return {"shadow": self._shadow, "planned": sorted(self._planned_tables)}

    def load_dry_run_state(self, state: dict[str, Any]) -> None:
        self._shadow = copy.deepcopy(state.get("shadow") or {})
        self._planned_tables = set(state.get("planned") or ())

    def _dry_table(self, table_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The shadow table a dry-run change applies to, and what the plan must assume.

        `workbook up --dry-run` hands each migration the state the earlier ones' dry runs
        left (`dry_run_state`), so 002 sees the table 001 would create. A migration dry-run
        alone cannot; rather than fail, the step is planned and marked as assuming the
        table exists by then; a typo shows up in the plan the same way.
        """
        shadow = self._shadow_table(table_id)
        if shadow.get("_assumed"):
            return shadow, {"assumes": f"table {table_id} exists by then (it does not yet)"}
        return shadow, {}

    def _shadow_table(self, table_id: str) -> dict[str, Any]:
        """The dry run's copy of a table, loaded from the live one on first change."""
        if table_id in self._shadow and self._shadow[table_id] is None:
            raise OperationFailed(f"table {table_id} is deleted earlier in this plan")
        if table_id not in self._shadow:
            live = self._get(self._path("tables", table_id))
            if live is None:
                live = {"$id": table_id, "_assumed": True}
                self._planned_tables.add(table_id)
            live.setdefault("columns", [])
            live.setdefault("indexes", [])
            self._shadow[table_id] = live
        shadow = self._shadow[table_id]
        assert shadow is not None
        return shadow

    def _poll(self, what: str, probe: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        waiting = Waiting(what, self.timeout)  # seconds out of the bound, once it is long
        while True:
            found = probe()
            if found is not None:
                waiting.close()
                return found
            if time.monotonic() >= deadline:
                raise OperationFailed(
                    f"{what} not available after {self.timeout:g}s",
                    hint="Appwrite's worker may be behind; re-run the migration to finish it",
                )
            waiting.tick()
            time.sleep(self.poll_interval)

    def _wait_gone(self, what: str, read: Callable[[], dict[str, Any] | None]) -> None:
        deadline = time.monotonic() + self.timeout
        waiting = Waiting(f"{what} to go", self.timeout)
        while True:
            item = read()
            if item is None:
                waiting.close()
                return
            if item.get("status") == "stuck":
                raise OperationFailed(
                    f"{what} is stuck while deleting: {item.get('error') or 'no error given'}",
                    hint="check the Appwrite worker logs, then delete it again",
                )
            if time.monotonic() >= deadline:
                raise OperationFailed(
                    f"{what} still present ({item.get('status')}) after {self.timeout:g}s",
                    hint="Appwrite's worker may be behind; re-run the migration to finish it",
                )
            waiting.tick(item.get("status"))
            time.sleep(self.poll_interval)


def _query_methods(queries: Sequence[str]) -> set[str]:
    methods = set()
    for query in queries:
        try:
            methods.add(str(json.loads(str(query)).get("method")))
        except (ValueError, AttributeError):
            continue
    return methods


def _selects(queries: Sequence[str]) -> bool:
    return "select" in _query_methods(queries)


def _check_update_options(target: str, kind: str, **options: Any) -> None:
    allowed = {"size": SIZED, "min": NUMERIC, "max": NUMERIC, "elements": ("enum",)}
    for name, value in options.items():
        if value is not None and kind not in allowed[name]:
            raise OperationFailed(
                f"update_column {target}: {name}= does not apply to a {kind} column",
                hint=f"{name}= is for {', '.join(allowed[name])} columns",
            )


def _find(table: dict[str, Any] | None, kind: str, key: str) -> dict[str, Any] | None:
    if table is None:
        return None
    return next((item for item in table.get(kind) or [] if item.get("key") == key), None)


def _raise_if_failed(what: str, item: dict[str, Any], table_id: str, key: Any, kind: str) -> None:
    status = item.get("status")
    if status in _FAILED:
        remedy = "delete_column" if kind == "columns" else "delete_index"
        raise OperationFailed(
            f"{what} is {status}: {item.get('error') or 'no error given'}",
            hint=f"fix the cause, then {remedy}('{table_id}', '{key}') and re-run",
        )
