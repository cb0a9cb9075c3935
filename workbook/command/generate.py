"""Migration cells written from a schema: the baseline of an adopted project.

The cells are plain ``wb`` calls (``create_table`` with inline columns and indexes), so a
reviewer reads them like any hand-written migration and a fresh environment — or ``local`` —
is built from nothing by ``workbook up``.
"""

from __future__ import annotations

import json
from typing import Any

from workbook.core.columns import NUMERIC, SIZED, column_kind
from workbook.core.schema import Schema
from workbook.errors import WorkbookError


def py(value: Any) -> str:
    """A Python literal for JSON-like data (strings double-quoted, as ruff formats them)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")


def column_spec(table_id: str, column: dict[str, Any]) -> dict[str, Any]:
    """The ``create_table(columns=[...])`` item that recreates a stored column."""
    kind = column_kind(column)
    key = str(column.get("key"))
    if column.get("type") == "relationship":
        raise WorkbookError(
            f"column {table_id}.{key} is a relationship, which a baseline cannot create yet",
            "write that part of the baseline by hand with wb.tables",
        )
    if column.get("encrypt"):
        raise WorkbookError(
            f"column {table_id}.{key} is encrypted, which a baseline cannot create yet",
            "write that column's step by hand with wb.tables",
        )
    spec: dict[str, Any] = {"key": key, "type": kind}
    if kind in SIZED and column.get("size") is not None:
        spec["size"] = int(column["size"])
    if column.get("required"):
        spec["required"] = True
    if column.get("array"):
        spec["array"] = True
    if kind in NUMERIC:
        for bound in ("min", "max"):
            if column.get(bound) is not None:
                spec[bound] = column[bound]
    if kind == "enum":
        spec["elements"] = list(column.get("elements") or [])
    if column.get("default") is not None:
        spec["default"] = column["default"]
    return spec


def index_spec(index: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "key": index.get("key"),
        "type": index.get("type"),
        "columns": [str(c) for c in index.get("columns") or index.get("attributes") or []],
    }
    orders = [str(o).upper() for o in index.get("orders") or []]
    if orders and all(o in ("ASC", "DESC") for o in orders):
        spec["orders"] = orders
    return spec


def create_table_source(table: dict[str, Any]) -> str:
    """``wb.create_table(...)`` for one stored table, one column or index per line."""
    table_id = str(table.get("$id"))
    lines = [f"wb.create_table(\n    {py(table_id)},\n    {py(table.get('name') or table_id)},"]
    columns = [column_spec(table_id, c) for c in table.get("columns") or []]
    if columns:
        lines.append("    columns=[")
        lines.extend(f"        {py(c)}," for c in columns)
        lines.append("    ],")
    indexes = [index_spec(i) for i in table.get("indexes") or []]
    if indexes:
        lines.append("    indexes=[")
        lines.extend(f"        {py(i)}," for i in indexes)
        lines.append("    ],")
    if table.get("rowSecurity"):
        lines.append("    row_security=True,")
    if table.get("$permissions"):
        lines.append(f"    permissions={py(sorted(table['$permissions']))},")
    lines.append(")")
    return "\n".join(lines)


def baseline_cells(schema: Schema) -> tuple[str, str]:
    """The up and down cells of a baseline: create every table; delete them, in reverse."""
    if not schema.tables:
        raise WorkbookError(
            f"database '{schema.database_id}' has no tables: there is nothing to baseline",
            "check --env, or start with `workbook create --name NAME` instead",
        )
    up = [
        "%%up",
        f"# The schema of database {schema.database_id!r} when the project adopted Workbook.",
    ]
    up.extend(create_table_source(t) for t in schema.tables)
    up.append("wb.schema()")
    down = ["%%down", "# Deletes every table of the baseline, and their rows (backed up first)."]
    down.extend(f"wb.delete_table({py(str(t.get('$id')))})" for t in reversed(schema.tables))
    down.append("wb.plan")
    return "\n".join(up), "\n".join(down)
