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
from workbook.core.schema_diff import Change, plan
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
    built = plan(Schema(schema.database_id, []), schema)
    up.append("# the result, checked: a difference stops the run here, naming it")
    up.extend(expectations(built))
    up.append("wb.schema()")
    down = ["%%down", "# Deletes every table of the baseline, and their rows (backed up first)."]
    down.extend(f"wb.delete_table({py(str(t.get('$id')))})" for t in reversed(schema.tables))
    down.extend(expectations([_flip(c) for c in reversed(built)]))
    down.append("wb.plan")
    return "\n".join(up), "\n".join(down)


# --------------------------------------------------------------------------- from a diff

GATE_STEP = "data_loss_ok"
OLD_SUFFIX = "__old"
_UP_ORDER = [
    ("delete", "index"),  # first: Appwrite refuses to rename or drop a column an index uses
    ("rename", "column"),
    ("update", "column"),
    ("update", "table"),
    ("add", "table"),
    ("add", "column"),
    ("recreate", "column"),
    ("add", "index"),
    ("delete", "column"),
    ("delete", "table"),
]


def check_renames(changes: list[Change], no_renames: bool) -> None:
    """A dropped column and an added one with the same definition may be a rename: never
    drop its data on a guess."""
    if no_renames:
        return
    for c in changes:
        if c.action == "delete" and c.kind == "column" and c.rename_candidate:
            raise WorkbookError(
                f"column {c.table}.{c.key} is dropped and {c.table}.{c.rename_candidate} added "
                "with the same definition: a rename would keep its data",
                f'add "previousKey": "{c.key}" to {c.table}.{c.rename_candidate} in the schema '
                "file, or pass --no-renames to drop and add",
            )


def ordered(changes: list[Change]) -> list[Change]:
    """The safe order: renames, in-place updates, creates, recreates, deletes last."""
    rank = {step: i for i, step in enumerate(_UP_ORDER)}
    return sorted(changes, key=lambda c: rank[(c.action, c.kind)])


def _options(column: dict[str, Any], table: str) -> str:
    spec = column_spec(table, column)
    key, kind = spec.pop("key"), spec.pop("type")
    extra = "".join(f", {name}={py(value)}" for name, value in spec.items())
    return f"{py(table)}, {py(key)}, {py(kind)}{extra}"


def _add_column(table: str, column: dict[str, Any]) -> str:
    return f"wb.add_column({_options(column, table)})"


def _add_index(table: str, index: dict[str, Any]) -> str:
    spec = index_spec(index)
    orders = f", orders={py(spec['orders'])}" if spec.get("orders") else ""
    return (
        f"wb.add_index({py(table)}, {py(spec['key'])}, {py(spec['type'])}, "
        f"{py(spec['columns'])}{orders})"
    )


def _update_column(table: str, key: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    names = [n for n in ("required", "default", "size", "min", "max", "elements") if n in after]
    args = "".join(f", {n}={py(after.get(n))}" for n in names if before.get(n) != after.get(n))
    return f"wb.update_column({py(table)}, {py(key)}{args})"


def _update_table(table: str, values: dict[str, Any]) -> str:
    names = {"name": "name", "permissions": "permissions", "rowSecurity": "row_security"}
    names["enabled"] = "enabled"
    args = "".join(f", {names[k]}={py(v)}" for k, v in values.items())
    return f"wb.tables.update_table(wb.database_id, {py(table)}{args})"


def _convert(kind: str) -> str:
    if kind in ("varchar", "string", "text", "mediumtext", "longtext", "email", "url", "ip"):
        return "None if v is None else str(v)"
    if kind in ("integer", "bigint"):
        return "None if v is None else int(v)"
    if kind == "float":
        return "None if v is None else float(v)"
    if kind == "boolean":
        return "None if v is None else bool(v)"
    return "v"


def _recreate(table: str, key: str, after: dict[str, Any]) -> list[str]:
    old = key[: 36 - len(OLD_SUFFIX)] + OLD_SUFFIX
    loose = {**after, "required": False}
    lines = [
        f"# recreate {table}.{key} as {after['type']}: move the old one aside, copy, drop it",
        f"wb.rename_column({py(table)}, {py(key)}, {py(old)})",
        _add_column(table, loose),
        f"wb.backfill({py(table)}, lambda row, c=(lambda v: {_convert(str(after['type']))}): "
        f"{{{py(key)}: c(row.get({py(old)}))}})  # check the conversion",
        f"wb.delete_column({py(table)}, {py(old)})",
    ]
    if after.get("required"):
        lines.append(f"wb.update_column({py(table)}, {py(key)}, required=True)")
    return lines


def _step(c: Change) -> list[str]:
    """The up lines of one change."""
    if c.kind == "table":
        if c.action == "add":
            assert c.after is not None
            return [create_table_source(_stored_table(c.after))]
        if c.action == "delete":
            return [f"wb.delete_table({py(c.table)})  # irreversible: its rows"]
        assert c.after is not None
        return [_update_table(c.table, c.after)]
    if c.kind == "index":
        if c.action == "add":
            assert c.after is not None
            return [_add_index(c.table, c.after)]
        return [f"wb.delete_index({py(c.table)}, {py(c.key)})"]
    if c.action == "rename":
        return [f"wb.rename_column({py(c.table)}, {py(c.key)}, {py(c.new_key)})"]
    if c.action == "add":
        assert c.after is not None
        return [_add_column(c.table, c.after)]
    if c.action == "delete":
        return [f"wb.delete_column({py(c.table)}, {py(c.key)})  # irreversible: its values"]
    assert c.before is not None and c.after is not None
    if c.action == "update":
        return [_update_column(c.table, c.key, c.before, c.after)]
    return _recreate(c.table, c.key, c.after)


def _flip(c: Change) -> Change:
    """The change that undoes ``c``."""
    return Change(
        {"add": "delete", "delete": "add"}.get(c.action, c.action),
        c.kind,
        c.table,
        c.new_key if c.action == "rename" and c.new_key else c.key,
        c.detail,
        c.after,
        c.before,
        c.key if c.action == "rename" else None,
    )


def _reverse(c: Change) -> list[str]:
    """The down lines of one change (structure back; lost values only from the backup)."""
    lines = [line.split("  # irreversible")[0] for line in _step(_flip(c))]
    where = f"{c.table}{'.' + c.key if c.key else ''}"
    if c.destructive:
        lines.insert(0, f"# {where}: the structure comes back; its values only from the backup")
    elif c.action == "add" and c.kind != "index":
        lines.insert(0, f"# {where}: dropped again, with what was written to it since")
    return lines


def _expect_column(table: str, key: str, column: dict[str, Any]) -> str:
    """``wb.expect_column`` with the properties a canonical column states."""
    props = {"type": column["type"], "required": bool(column.get("required"))}
    props["array"] = bool(column.get("array"))
    for name in ("size", "min", "max", "default", "elements"):
        if column.get(name) is not None:
            props[name] = column[name]
    args = "".join(f", {name}={py(value)}" for name, value in props.items())
    return f"wb.expect_column({py(table)}, {py(key)}{args})"


def expectations(changes: list[Change]) -> list[str]:
    """``wb.expect_*`` lines stating what ``changes`` leave behind (the last change to a
    table, column or index decides), so a generated migration checks its own result."""
    final: dict[tuple[str, str, str], tuple[Change, str]] = {}
    for c in changes:
        if c.kind == "column" and c.action == "rename" and c.new_key:
            final[("column", c.table, c.key)] = (
                Change("delete", "column", c.table, c.key, ""),
                c.key,
            )
            final[("column", c.table, c.new_key)] = (c, c.new_key)
        else:
            final[(c.kind, c.table, c.key)] = (c, c.key)
    lines = []
    for (kind, table, _), (c, key) in final.items():
        gone = c.action == "delete"
        if kind == "table":
            if gone:
                lines.append(f"wb.expect_table({py(table)}, exists=False)")
            elif c.action == "add" and c.after is not None:
                keys = [str(col["key"]) for col in c.after.get("columns") or []]
                indexes = [str(i["key"]) for i in c.after.get("indexes") or []]
                lines.append(
                    f"wb.expect_table({py(table)}, columns={py(keys)}, indexes={py(indexes)})"
                )
            else:
                assert c.after is not None
                names = {"name": "name", "rowSecurity": "row_security", "enabled": "enabled"}
                names["permissions"] = "permissions"
                args = "".join(f", {names[k]}={py(v)}" for k, v in c.after.items())
                lines.append(f"wb.expect_table({py(table)}{args})")
        elif kind == "column":
            if gone:
                lines.append(f"wb.expect_column({py(table)}, {py(key)}, exists=False)")
            else:
                assert c.after is not None
                lines.append(_expect_column(table, key, c.after))
        elif gone:
            lines.append(f"wb.expect_index({py(table)}, {py(key)}, exists=False)")
        else:
            assert c.after is not None
            spec = index_spec(c.after)
            lines.append(
                f"wb.expect_index({py(table)}, {py(key)}, type={py(spec['type'])}, "
                f"columns={py(spec['columns'])})"
            )
    return lines


def _stored_table(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "$id": t["id"],
        "name": t["name"],
        "rowSecurity": t["rowSecurity"],
        "$permissions": t["permissions"],
        "columns": t["columns"],
        "indexes": t["indexes"],
    }


def plan_cells(changes: list[Change], *, no_renames: bool = False) -> tuple[str, str]:
    """Up and down cells performing ``changes`` in a safe order; irreversible steps are
    marked and gated behind the backup and a checklist (``-p confirmed=data_loss_ok``)."""
    if not changes:
        raise WorkbookError(
            "the schemas are the same: there is nothing to generate",
            "check --env and --schema/--against (workbook diff shows the changes)",
        )
    check_renames(changes, no_renames)
    steps = ordered(changes)
    up = ["%%up"]
    lost = [f"{x.table}{'.' + x.key if x.key else ''}" for x in steps if x.destructive]
    if lost:  # asked before anything changes, so a refused run leaves the schema as it was
        step = py(GATE_STEP)
        up += [
            "# ⚠ Irreversible steps below: the runner backs the tables up first",
            "# (history/<env>/backups/; `workbook restore` brings rows back).",
            "checklist = workbook.Checklist(",
            '    "Before values are deleted",',
            f"    [workbook.Step({step}, {py('Losing the values of ' + ', '.join(lost))})],",
            "    confirmed=confirmed,",
            ")",
            'if environment != "local":  # local (and a replay) is a scratch copy',
            "    checklist.require()",
        ]
    for c in steps:
        up.append(f"# {c.action} {c.kind} {c.table}{'.' + c.key if c.key else ''}: {c.detail}")
        up.extend(_step(c))
    up.append("# the result, checked: a difference stops the run here, naming it")
    up.extend(expectations(steps))
    up.append("wb.schema()")
    down = ["%%down", "# Undo the up cell, in reverse order."]
    for c in reversed(steps):
        down.extend(_reverse(c))
    down.append("# the schema as it was, checked")
    down.extend(expectations([_flip(c) for c in reversed(steps)]))
    down.append("wb.schema()")
    return "\n".join(up), "\n".join(down)
