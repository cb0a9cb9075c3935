"""The live schema of one database: read as raw JSON, shown as DataFrames, exported, diffed.

Read through `client.call` rather than the SDK's typed list models, which parse columns
into the wrong classes and lose precision on numeric bounds (reference §0). The same
snapshot feeds the notebook's "live schema" tables, the `appwrite.config.json` the
Appwrite CLI reads, a fingerprint recorded before and after each run, and `diff`.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from appwrite.exception import AppwriteException

from workbook.core.client import one_line
from workbook.core.columns import column_kind
from workbook.core.paging import iter_items, raw_get
from workbook.errors import OperationFailed

PAGE = 100
COLUMN_FIELDS = [
    "table",
    "key",
    "type",
    "size",
    "format",
    "required",
    "default",
    "array",
    "options",
    "status",
    "error",
]
INDEX_FIELDS = ["table", "key", "type", "columns", "orders", "status", "error"]
TABLE_FIELDS = ["table", "name", "columns", "indexes", "rowSecurity", "enabled"]
DIFF_FIELDS = ["change", "kind", "table", "key", "detail"]
# What appwrite-cli 12 keeps of a pulled table, column and index (lib/config.js
# KeysTable, KeysColumns, KeyIndexesColumns).
CLI_TABLE = ("$id", "$permissions", "databaseId", "name", "enabled", "rowSecurity")
CLI_COLUMN = (
    "key",
    "type",
    "required",
    "array",
    "size",
    "default",
    "min",
    "max",
    "format",
    "elements",
    "relatedTable",
    "relationType",
    "twoWay",
    "twoWayKey",
    "onDelete",
    "side",
    "encrypt",
)
CLI_INDEX = ("key", "type", "columns", "orders")
_VOLATILE = {"$createdAt", "$updatedAt", "status", "error", "$sequence", "bytesUsed", "$id"}


@dataclass
class Schema:
    """One database's tables (raw Appwrite JSON, sorted by id) at one moment."""

    database_id: str
    tables: list[dict[str, Any]] = field(default_factory=list)
    project_id: str = ""
    database_name: str = ""

    def table(self, table_id: str) -> dict[str, Any] | None:
        return next((t for t in self.tables if t.get("$id") == table_id), None)

    # ---------------------------------------------------------------- frames

    def tables_frame(self) -> pd.DataFrame:
        rows = [
            {
                "table": t.get("$id"),
                "name": t.get("name"),
                "columns": len(t.get("columns") or []),
                "indexes": len(t.get("indexes") or []),
                "rowSecurity": bool(t.get("rowSecurity")),
                "enabled": bool(t.get("enabled", True)),
            }
            for t in self.tables
        ]
        return pd.DataFrame(rows, columns=TABLE_FIELDS)

    def columns_frame(self, table_id: str | None = None) -> pd.DataFrame:
        rows = [
            {
                "table": t.get("$id"),
                "key": c.get("key"),
                "type": column_kind(c),
                "size": "" if c.get("size") is None else int(c["size"]),
                "format": c.get("format") or "",
                "required": bool(c.get("required")),
                "default": "" if c.get("default") is None else _number(c, c["default"]),
                "array": bool(c.get("array")),
                "options": _options(c),
                "status": c.get("status"),
                "error": c.get("error") or "",
            }
            for t in self._selected(table_id)
            for c in t.get("columns") or []
        ]
        # sizes stay ints ("255", not "255.0") beside the blank of sizeless types
        # (defaults too: an integer's 0 beside a blank must not become 0.0)
        return pd.DataFrame(rows, columns=COLUMN_FIELDS, dtype=object)

    def indexes_frame(self, table_id: str | None = None) -> pd.DataFrame:
        rows = [
            {
                "table": t.get("$id"),
                "key": i.get("key"),
                "type": i.get("type"),
                "columns": ", ".join(_index_columns(i)),
                "orders": ", ".join(str(o) for o in i.get("orders") or [] if o),
                "status": i.get("status"),
                "error": i.get("error") or "",
            }
            for t in self._selected(table_id)
            for i in t.get("indexes") or []
        ]
        return pd.DataFrame(rows, columns=INDEX_FIELDS)

    def _selected(self, table_id: str | None) -> list[dict[str, Any]]:
        return [t for t in self.tables if table_id is None or t.get("$id") == table_id]

    # ---------------------------------------------------------------- display

    def _repr_html_(self) -> str:
        title = (
            f"<h4>Schema of database <code>{html.escape(self.database_id)}</code>: "
            f"{len(self.tables)} table(s) · fingerprint <code>{self.fingerprint()[:12]}</code></h4>"
        )
        if not self.tables:
            return title + "<p>(no tables)</p>"
        parts = [title]
        for t in self.tables:
            table_id = str(t.get("$id"))
            parts.append(
                f"<details open><summary><b>{html.escape(table_id)}</b> "
                f"({html.escape(str(t.get('name') or ''))})</summary>"
            )
            columns = self.columns_frame(table_id).drop(columns=["table"])
            parts.append(columns.to_html(index=False, na_rep="", escape=True))
            indexes = self.indexes_frame(table_id).drop(columns=["table"])
            if len(indexes):
                parts.append(indexes.to_html(index=False, na_rep="", escape=True))
            parts.append("</details>")
        return "".join(parts)

    def __repr__(self) -> str:
        lines = [
            f"Schema {self.database_id}: {len(self.tables)} table(s), "
            f"fingerprint {self.fingerprint()[:12]}"
        ]
        for t in self.tables:
            cols = ", ".join(f"{c.get('key')}:{column_kind(c)}" for c in t.get("columns") or [])
            idx = ", ".join(str(i.get("key")) for i in t.get("indexes") or [])
            lines.append(f"  {t.get('$id')}({cols})" + (f" indexes[{idx}]" if idx else ""))
        return "\n".join(lines)

    # ---------------------------------------------------------------- export

    def to_appwrite_json(self) -> dict[str, Any]:
        """The `appwrite.config.json` shape appwrite-cli 12 writes on `pull tables`."""
        tables = []
        for t in self.tables:
            item = {k: t[k] for k in CLI_TABLE if k in t}
            item.setdefault("databaseId", self.database_id)
            item.setdefault("$permissions", [])
            item["columns"] = [
                {k: c[k] for k in CLI_COLUMN if k in c} for c in t.get("columns") or []
            ]
            item["indexes"] = [
                {**{k: i[k] for k in CLI_INDEX if k in i}, "columns": _index_columns(i)}
                for i in t.get("indexes") or []
            ]
            tables.append(item)
        return {
            "projectId": self.project_id,
            "tablesDB": [
                {
                    "$id": self.database_id,
                    "name": self.database_name or self.database_id,
                    "enabled": True,
                }
            ],
            "tables": tables,
        }

    def normalized(self) -> list[dict[str, Any]]:
        """Tables without timestamps, status or internal ids, columns/indexes sorted by key."""
        out = []
        for t in self.tables:
            item = {
                k: v
                for k, v in t.items()
                if k not in _VOLATILE and k not in ("columns", "indexes", "bytesMax", "databaseId")
            }
            item["id"] = t.get("$id")
            item["$permissions"] = sorted(t.get("$permissions") or [])
            item["columns"] = sorted(
                (
                    {k: v for k, v in c.items() if k not in _VOLATILE}
                    for c in t.get("columns") or []
                ),
                key=lambda c: str(c.get("key")),
            )
            item["indexes"] = sorted(
                (
                    {k: v for k, v in i.items() if k not in _VOLATILE}
                    for i in t.get("indexes") or []
                ),
                key=lambda i: str(i.get("key")),
            )
            out.append(item)
        return sorted(out, key=lambda t: str(t["id"]))

    def fingerprint(self) -> str:
        """sha256 of the normalized schema: equal schemas, equal fingerprints, anywhere."""
        text = json.dumps(self.normalized(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


_UNSET_BOUND = 9.2e18  # Appwrite reports an unset integer bound as ±2**63 (floats: ±1.8e308)


def _options(column: dict[str, Any]) -> str:
    parts = []
    for name in ("min", "max"):
        bound = column.get(name)
        if bound is not None and abs(float(bound)) < _UNSET_BOUND:
            parts.append(f"{name}={_number(column, bound)}")
    if column.get("elements"):
        parts.append("elements=" + "|".join(str(e) for e in column["elements"]))
    if column.get("type") == "relationship":
        parts.append(f"→ {column.get('relatedTable')} ({column.get('relationType')})")
    if column.get("encrypt"):
        parts.append("encrypted")
    return " ".join(parts)


def _number(column: dict[str, Any], value: Any) -> Any:
    """An integer column's numbers as integers (``0``, not ``0.0``)."""
    if column_kind(column) == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _index_columns(index: dict[str, Any]) -> list[str]:
    return [str(c) for c in index.get("columns") or index.get("attributes") or []]


def snapshot(client: Any, database_id: str) -> Schema:
    """Read every table of `database_id` (paged) into a `Schema`.

    `client` is the SDK `Client` (or anything with one as `.client`, like a `TablesDB`).
    """
    client = getattr(client, "client", client)
    base = f"/tablesdb/{database_id}"

    def get(path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return raw_get(client, path, params)
        except AppwriteException as exc:
            raise OperationFailed(
                f"reading the schema of database {database_id} failed: {one_line(exc)}",
                hint=f"Appwrite error {exc.type}" if exc.type else None,
            ) from exc

    database = get(base)
    try:
        tables = list(iter_items(client, f"{base}/tables", "tables"))
    except AppwriteException as exc:
        raise OperationFailed(
            f"reading the tables of database {database_id} failed: {one_line(exc)}",
            hint=f"Appwrite error {exc.type}" if exc.type else None,
        ) from exc
    tables.sort(key=lambda t: str(t.get("$id")))
    return Schema(
        database_id=database_id,
        tables=tables,
        project_id=str(client.get_config("project") or ""),
        database_name=str(database.get("name") or ""),
    )


def diff(before: Schema, after: Schema) -> pd.DataFrame:
    """Added, removed and changed tables, columns and indexes between two snapshots."""
    rows: list[dict[str, Any]] = []
    old = {t["id"]: t for t in before.normalized()}
    new = {t["id"]: t for t in after.normalized()}
    for table_id in sorted(old.keys() | new.keys()):
        a, b = old.get(table_id), new.get(table_id)
        if a is None or b is None:
            change = "added" if a is None else "removed"
            present = b if a is None else a
            assert present is not None
            detail = f"{len(present['columns'])} column(s), {len(present['indexes'])} index(es)"
            rows.append(_row(change, "table", table_id, "", detail))
            continue
        for name in sorted((a.keys() | b.keys()) - {"columns", "indexes", "id"}):
            if a.get(name) != b.get(name):
                rows.append(
                    _row(
                        "changed",
                        "table",
                        table_id,
                        "",
                        f"{name}: {a.get(name)!r} → {b.get(name)!r}",
                    )
                )
        for kind in ("columns", "indexes"):
            rows.extend(
                _diff_items(kind[:-1] if kind == "columns" else "index", table_id, a[kind], b[kind])
            )
    return pd.DataFrame(rows, columns=DIFF_FIELDS)


def _diff_items(
    kind: str, table_id: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = []
    old = {str(i.get("key")): i for i in before}
    new = {str(i.get("key")): i for i in after}
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is None:
            assert b is not None
            rows.append(_row("added", kind, table_id, key, _describe(kind, b)))
        elif b is None:
            rows.append(_row("removed", kind, table_id, key, _describe(kind, a)))
        elif a != b:
            changes = [
                f"{name}: {a.get(name)!r} → {b.get(name)!r}"
                for name in sorted(a.keys() | b.keys())
                if a.get(name) != b.get(name)
            ]
            rows.append(_row("changed", kind, table_id, key, "; ".join(changes)))
    return rows


def _describe(kind: str, item: dict[str, Any]) -> str:
    if kind == "index":
        return f"{item.get('type')} on {', '.join(_index_columns(item))}"
    text = column_kind(item)
    if item.get("size") is not None and item.get("type") in ("string", "varchar"):
        text += f"({item['size']})"
    return text + column_traits(item)


def column_traits(column: dict[str, Any]) -> str:
    """What follows a column's type when it is described: ``[] required default 'x'``."""
    text = "[]" if column.get("array") else ""
    if column.get("required"):
        text += " required"
    if column.get("default") is not None:
        text += f" default {column['default']!r}"
    return text


def _row(change: str, kind: str, table: str, key: str, detail: str) -> dict[str, Any]:
    return {"change": change, "kind": kind, "table": table, "key": key, "detail": detail}
