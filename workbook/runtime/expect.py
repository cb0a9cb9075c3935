"""``wb.expect_table``, ``wb.expect_column``, ``wb.expect_index``: a migration states the
schema it should have produced, in Appwrite's own properties, and stops if it did not.

A migration that checks its own result fails where the difference arises, not two
migrations later; generated migrations (``create --from-diff``) end their up and down cells
with these checks. A failure is one line naming each property, what was expected and what
is there, e.g. ``expect_column posts.title: size expected 255, found 100``.

In a dry run the checks read the plan's shadow schema (what the run would have produced);
a mismatch there is noted in the plan, not raised, because a dry run of a migration alone
may have to assume what earlier migrations create.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from workbook.core.columns import column_kind, same_value
from workbook.errors import WorkbookError
from workbook.runtime.dryrun import NO_OP

ANY: Any = type("Any", (), {"__repr__": lambda self: "ANY"})()
"""A property left out of an expectation: not compared."""

_BUSY = ("processing", "deleting")
_ALIASES = {"double": "float", "float": "float"}


class ExpectationFailed(WorkbookError):
    """The schema is not what the migration says it should be."""


def _differences(checks: list[tuple[str, Any, Any, bool]]) -> list[str]:
    return [
        f"{name} expected {want!r}, found {have!r}" for name, want, have, ok in checks if not ok
    ]


def _same_type(wanted: str, column: dict[str, Any]) -> bool:
    """Appwrite's stored type (``string`` with a format, ``double``) or Workbook's kind."""
    stored = str(column.get("type", ""))
    kind = column_kind(column)
    return wanted in (stored, kind) or _ALIASES.get(wanted) == _ALIASES.get(stored, kind)


class Expectations:
    """Assertions on the live (or, in a dry run, the planned) schema; mixed into ``Ops``."""

    # provided by Ops: the reads (shadow-aware in a dry run), the plan and the bounds
    table: Any
    column: Any
    index: Any
    dry_run: bool
    plan: Any
    timeout: float
    poll_interval: float

    def expect_table(
        self,
        table_id: str,
        *,
        exists: bool = True,
        name: Any = ANY,
        row_security: Any = ANY,
        enabled: Any = ANY,
        permissions: Any = ANY,
        columns: Sequence[str] | None = None,
        indexes: Sequence[str] | None = None,
    ) -> None:
        """The table exists (or not) with these properties; ``columns``/``indexes`` are
        the exact sets of keys it has."""
        what = f"expect_table {table_id}"
        found = self.table(table_id)
        if not self._present(what, f"table {table_id}", found, exists):
            return
        assert found is not None
        have_columns = sorted(str(c.get("key")) for c in found.get("columns") or [])
        have_indexes = sorted(str(i.get("key")) for i in found.get("indexes") or [])
        checks = [
            ("name", name, found.get("name"), name is ANY or found.get("name") == name),
            (
                "row_security",
                row_security,
                bool(found.get("rowSecurity")),
                row_security is ANY or bool(found.get("rowSecurity")) == row_security,
            ),
            (
                "enabled",
                enabled,
                bool(found.get("enabled", True)),
                enabled is ANY or bool(found.get("enabled", True)) == enabled,
            ),
        ]
        if permissions is not ANY:
            have = sorted(found.get("$permissions") or [])
            checks.append(
                ("permissions", sorted(permissions or []), have, have == sorted(permissions or []))
            )
        if columns is not None:
            want = sorted(columns)
            checks.append(("columns", want, have_columns, want == have_columns))
        if indexes is not None:
            want = sorted(indexes)
            checks.append(("indexes", want, have_indexes, want == have_indexes))
        self._verdict(what, _differences(checks))

    def expect_column(
        self,
        table_id: str,
        key: str,
        *,
        exists: bool = True,
        type: Any = ANY,
        size: Any = ANY,
        required: Any = ANY,
        array: Any = ANY,
        default: Any = ANY,
        min: Any = ANY,
        max: Any = ANY,
        elements: Any = ANY,
        format: Any = ANY,
        encrypt: Any = ANY,
        status: Any = "available",
    ) -> None:
        """The column exists (or not) with these properties, as Appwrite reports them:
        ``type`` may be Appwrite's (``varchar``, ``double``, ``string``) or Workbook's
        (``float``, ``email``, ``enum``)."""
        what = f"expect_column {table_id}.{key}"
        found = self._settled(lambda: self.column(table_id, key))
        if not self._present(what, f"column {table_id}.{key}", found, exists):
            return
        assert found is not None
        kind = column_kind(found)
        checks: list[tuple[str, Any, Any, bool]] = []
        if type is not ANY:
            shown = found.get("type") if found.get("type") == type else kind
            checks.append(("type", type, shown, _same_type(str(type), found)))
        for prop, want in (("required", required), ("array", array), ("encrypt", encrypt)):
            if want is not ANY:
                have = bool(found.get(prop))
                checks.append((prop, want, have, have == bool(want)))
        for prop, want in (("size", size), ("format", format), ("status", status)):
            if want is not ANY:
                have = found.get(prop)
                checks.append((prop, want, have, have == want))
        for prop, want in (("default", default), ("min", min), ("max", max)):
            if want is not ANY:
                have = found.get(prop)
                checks.append((prop, want, have, same_value(kind, have, want)))
        if elements is not ANY:
            have = list(found.get("elements") or [])
            same = sorted(map(str, have)) == sorted(map(str, elements or []))
            checks.append(("elements", list(elements or []), have, same))
        self._verdict(what, _differences(checks))

    def expect_index(
        self,
        table_id: str,
        key: str,
        *,
        exists: bool = True,
        type: Any = ANY,
        columns: Sequence[str] | None = None,
        orders: Sequence[str] | None = None,
        status: Any = "available",
    ) -> None:
        """The index exists (or not) with this type, these columns (in order) and orders."""
        what = f"expect_index {table_id}.{key}"
        found = self._settled(lambda: self.index(table_id, key))
        if not self._present(what, f"index {table_id}.{key}", found, exists):
            return
        assert found is not None
        checks: list[tuple[str, Any, Any, bool]] = []
        if type is not ANY:
            checks.append(("type", type, found.get("type"), found.get("type") == type))
        if columns is not None:
            have = [str(c) for c in found.get("columns") or found.get("attributes") or []]
            checks.append(("columns", list(columns), have, have == list(columns)))
        if orders is not None:
            have = [str(o).upper() for o in found.get("orders") or [] if o]
            want = [str(o).upper() for o in orders]
            checks.append(("orders", want, have, have == want))
        if status is not ANY:
            checks.append(("status", status, found.get("status"), found.get("status") == status))
        self._verdict(what, _differences(checks))

    # ----------------------------------------------------------------- helpers

    def _settled(self, read: Any) -> dict[str, Any] | None:
        """The item once Appwrite has finished building or deleting it (bounded wait)."""
        deadline = time.monotonic() + self.timeout
        item = read()
        while (
            not self.dry_run
            and item is not None
            and item.get("status") in _BUSY
            and time.monotonic() < deadline
        ):
            time.sleep(self.poll_interval)
            item = read()
        if item is not None and item.get("status") == "deleting":
            return None
        return item

    def _present(self, what: str, thing: str, found: Any, exists: bool) -> bool:
        """Whether to compare properties; an unexpected presence or absence is the verdict."""
        if found is None and exists:
            self._verdict(what, [f"{thing} does not exist"])
            return False
        if found is not None and not exists:
            self._verdict(what, [f"{thing} exists, expected none"])
            return False
        return found is not None

    def _verdict(self, what: str, differences: list[str]) -> None:
        if not differences:
            return
        text = f"{what}: {'; '.join(differences)}"
        if self.dry_run:
            self.plan.add(
                what.split()[0], what.split()[1], {"reason": f"would fail: {text}"}, effect=NO_OP
            )
            return
        raise ExpectationFailed(
            text,
            hint="the schema is not what this migration states; see the cells above",
        )
