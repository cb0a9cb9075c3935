"""A plan of changes between two schemas, each classified the way Appwrite allows it.

Both sides pass through one normalization (:func:`canonical`), so nothing Appwrite fills in by
itself — timestamps, status, the default min/max of numbers, the sizes of fixed text types and
formats — shows as a difference. Changes are data (as Alembic's operation objects): the CLI
shows them as a table or JSON, and ``create --from-diff`` renders them as notebook cells.

Actions: ``add``; ``update`` (in place: required, default, size of string types, min/max, enum
elements; a table's name, permissions, row security); ``rename`` (``previousKey`` in the
desired schema); ``recreate`` (type, array, encrypt or format: destructive); ``delete``
(destructive). Index changes are ``delete`` + ``add``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook.core.columns import INDEX_TYPES, NUMERIC, SIZED, TYPES, column_kind
from workbook.core.schema import CLI_COLUMN, CLI_INDEX, CLI_TABLE, Schema, column_traits
from workbook.errors import WorkbookError

INT_BOUNDS = (-9223372036854775808, 9223372036854775807)
FLOAT_MAX = 1.7976931348623157e308
IN_PLACE = ("required", "default", "size", "min", "max", "elements")
RECREATE = ("type", "array", "encrypt")
# What a schema file may hold: what appwrite-cli keeps (schema.CLI_*), plus what a pulled or
# hand-written file carries besides.
_SERVER_FILLED = {"status", "error", "$createdAt", "$updatedAt"}
TABLE_KEYS = {*CLI_TABLE, "columns", "indexes", "$createdAt", "$updatedAt", "bytesMax", "bytesUsed"}
COLUMN_KEYS = {*CLI_COLUMN, "previousKey", *_SERVER_FILLED}
INDEX_KEYS = {*CLI_INDEX, "attributes", "lengths", *_SERVER_FILLED}
STORED_TYPES = {"string", "double", "relationship", *TYPES}


class SchemaFileError(WorkbookError):
    """A schema file Workbook cannot read, naming the path inside it."""


# ------------------------------------------------------------------------- normalization


def canonical_column(column: dict[str, Any]) -> dict[str, Any]:
    """A column as compared: Workbook's kind, only the properties that kind has, defaults
    Appwrite fills in left out."""
    kind = column_kind(column)
    out: dict[str, Any] = {
        "key": str(column.get("key")),
        "type": kind,
        "required": bool(column.get("required")),
        "array": bool(column.get("array")),
        "default": column.get("default"),
    }
    if kind in SIZED:
        out["size"] = int(column["size"]) if column.get("size") is not None else None
    if kind in NUMERIC:
        low, high = (-FLOAT_MAX, FLOAT_MAX) if kind == "float" else INT_BOUNDS
        for name, filled in (("min", low), ("max", high)):
            value = column.get(name)
            out[name] = None if value is None or value == filled else value
    if kind == "enum":
        out["elements"] = sorted(str(e) for e in column.get("elements") or [])
    if column.get("encrypt"):
        out["encrypt"] = True
    if kind == "relationship":
        for name in ("relatedTable", "relationType", "twoWay", "twoWayKey", "onDelete", "side"):
            out[name] = column.get(name)
    return out


def canonical_index(index: dict[str, Any]) -> dict[str, Any]:
    columns = [str(c) for c in index.get("columns") or index.get("attributes") or []]
    orders = [str(o).upper() for o in index.get("orders") or [] if o]
    return {
        "key": str(index.get("key")),
        "type": index.get("type"),
        "columns": columns,
        "orders": orders if len(orders) == len(columns) else None,
    }


@dataclass
class Table:
    id: str
    name: str
    row_security: bool
    enabled: bool
    permissions: list[str]
    columns: dict[str, dict[str, Any]]
    indexes: dict[str, dict[str, Any]]
    previous: dict[str, str] = field(default_factory=dict)  # new key → previousKey
    raw_columns: list[dict[str, Any]] = field(default_factory=list)


def canonical(schema: Schema) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for t in schema.tables:
        table_id = str(t.get("$id"))
        columns = t.get("columns") or []
        tables[table_id] = Table(
            id=table_id,
            name=str(t.get("name") or table_id),
            row_security=bool(t.get("rowSecurity")),
            enabled=bool(t.get("enabled", True)),
            permissions=sorted(t.get("$permissions") or []),
            columns={str(c.get("key")): canonical_column(c) for c in columns},
            indexes={str(i.get("key")): canonical_index(i) for i in t.get("indexes") or []},
            previous={
                str(c["key"]): str(c["previousKey"]) for c in columns if c.get("previousKey")
            },
            raw_columns=list(columns),
        )
    return tables


# ------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Change:
    """One step of a plan. ``before``/``after`` are canonical definitions (None when absent)."""

    action: str  # add | update | rename | recreate | delete
    kind: str  # table | column | index
    table: str
    key: str
    detail: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    new_key: str | None = None  # renames
    rename_candidate: str | None = None  # a delete + add with the same definition

    @property
    def destructive(self) -> bool:
        return self.action in ("delete", "recreate") and self.kind != "index"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "table": self.table,
            "key": self.key,
            "new_key": self.new_key,
            "destructive": self.destructive,
            "detail": self.detail,
            "before": self.before,
            "after": self.after,
            "rename_candidate": self.rename_candidate,
        }


def plan(current: Schema, desired: Schema) -> list[Change]:
    """What would bring ``current`` to ``desired``, table by table."""
    old, new = canonical(current), canonical(desired)
    changes: list[Change] = []
    for table_id in sorted(old.keys() | new.keys()):
        a, b = old.get(table_id), new.get(table_id)
        if a is None:
            assert b is not None
            detail = f"{len(b.columns)} column(s), {len(b.indexes)} index(es)"
            changes.append(Change("add", "table", table_id, "", detail, None, _table_dict(b)))
        elif b is None:
            detail = f"{len(a.columns)} column(s) and their rows"
            changes.append(Change("delete", "table", table_id, "", detail, _table_dict(a), None))
        else:
            changes.extend(_table_changes(a, b))
    return changes


def _table_dict(t: Table) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "rowSecurity": t.row_security,
        "enabled": t.enabled,
        "permissions": t.permissions,
        "columns": list(t.columns.values()),
        "indexes": list(t.indexes.values()),
    }


def _table_changes(a: Table, b: Table) -> list[Change]:
    changes: list[Change] = []
    props = {
        "name": (a.name, b.name),
        "rowSecurity": (a.row_security, b.row_security),
        "enabled": (a.enabled, b.enabled),
        "permissions": (a.permissions, b.permissions),
    }
    moved = {k: v for k, v in props.items() if v[0] != v[1]}
    if moved:
        detail = "; ".join(f"{k}: {v[0]!r} → {v[1]!r}" for k, v in moved.items())
        before = {k: v[0] for k, v in moved.items()}
        after = {k: v[1] for k, v in moved.items()}
        changes.append(Change("update", "table", a.id, "", detail, before, after))
    renamed: dict[str, str] = {}  # old key → new key
    for new_key, old_key in b.previous.items():
        if new_key in a.columns:
            continue  # already renamed (or never needed): previousKey is history
        if old_key not in a.columns:
            raise SchemaFileError(
                f"tables[{a.id}].columns[{new_key}].previousKey names {old_key!r}, "
                f"which table {a.id} does not have",
                f"columns of {a.id}: {', '.join(sorted(a.columns)) or 'none'}",
            )
        renamed[old_key] = new_key
    for old_key, new_key in sorted(renamed.items()):
        before = a.columns[old_key]
        changes.append(
            Change("rename", "column", a.id, old_key, f"→ {new_key}", before, before, new_key)
        )
    current = {renamed.get(k, k): {**c, "key": renamed.get(k, k)} for k, c in a.columns.items()}
    added = sorted(b.columns.keys() - current.keys())
    deleted = sorted(current.keys() - b.columns.keys())
    for key in sorted(current.keys() & b.columns.keys()):
        x, y = current[key], b.columns[key]
        if x == y:
            continue
        if any(x.get(p) != y.get(p) for p in RECREATE) or _other_differs(x, y):
            diffs = _differences(x, y)
            changes.append(Change("recreate", "column", a.id, key, diffs, x, y))
        else:
            changes.append(Change("update", "column", a.id, key, _differences(x, y), x, y))
    shapes = {key: _shape(b.columns[key]) for key in added}
    for key in added:
        changes.append(
            Change("add", "column", a.id, key, describe(b.columns[key]), None, b.columns[key])
        )
    for key in deleted:
        twin = next((k for k in added if shapes[k] == _shape(current[key])), None)
        changes.append(
            Change(
                "delete",
                "column",
                a.id,
                key,
                describe(current[key]),
                current[key],
                None,
                rename_candidate=twin,
            )
        )
    recreated = {c.key for c in changes if c.action == "recreate"}
    for key in sorted(a.indexes.keys() | b.indexes.keys()):
        x, y = a.indexes.get(key), b.indexes.get(key)
        before_detail = describe_index(x) if x is not None else ""
        if x is not None and y is not None:
            mapped = {**x, "columns": [renamed.get(c, c) for c in x["columns"]]}
            same = {**mapped, "orders": None} == {**y, "orders": None}
            if y.get("orders") is not None and mapped.get("orders") is not None:
                same = mapped == y
            moved = [c for c in x["columns"] if c in renamed or renamed.get(c, c) in recreated]
            if same and not moved:
                continue
            if same:  # Appwrite refuses to rename or delete a column an index uses
                before_detail = f"{before_detail}; rebuilt around {', '.join(moved)}"
        if x is not None:
            changes.append(Change("delete", "index", a.id, key, before_detail, x, None))
        if y is not None:
            changes.append(Change("add", "index", a.id, key, describe_index(y), None, y))
    return changes


def _other_differs(x: dict[str, Any], y: dict[str, Any]) -> bool:
    names = (x.keys() | y.keys()) - set(IN_PLACE) - set(RECREATE) - {"key"}
    return any(x.get(n) != y.get(n) for n in names)


def _shape(column: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in column.items() if k != "key"}, sort_keys=True)


def _differences(x: dict[str, Any], y: dict[str, Any]) -> str:
    names = sorted((x.keys() | y.keys()) - {"key"})
    return "; ".join(f"{n}: {x.get(n)!r} → {y.get(n)!r}" for n in names if x.get(n) != y.get(n))


def describe(column: dict[str, Any]) -> str:
    text = str(column.get("type"))
    if column.get("size") is not None:
        text += f"({column['size']})"
    return text + column_traits(column)


def describe_index(index: dict[str, Any]) -> str:
    return f"{index.get('type')} on {', '.join(index.get('columns') or [])}"


# ------------------------------------------------------------------------- schema files


def read_schema_file(path: Path, database: str | None = None) -> Schema:
    """An ``appwrite.config.json`` (or a pulled file) as a Schema; every problem names its
    path in the file, e.g. ``tables[2].columns[5].type``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaFileError(
            f"no schema file {path}", "pass a file `schema pull -o` wrote"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaFileError(f"{path} is not valid JSON: {exc}", "fix the file's syntax") from exc
    return schema_from_config(data, str(path), database)


def schema_from_config(data: Any, where: str, database: str | None = None) -> Schema:
    def bad(at: str, why: str, hint: str) -> SchemaFileError:
        return SchemaFileError(f"{where}: {at} {why}", hint)

    if not isinstance(data, dict):
        raise bad("the file", "is not a JSON object", "write it as appwrite.config.json is")
    databases = data.get("tablesDB") or []
    if not isinstance(databases, list):
        raise bad("tablesDB", "is not a list", 'write "tablesDB": [{"$id": …}]')
    tables = data.get("tables", [])
    if not isinstance(tables, list):
        raise bad("tables", "is not a list", 'write "tables": [{…}, …]')
    db_ids = [str(d.get("$id")) for d in databases if isinstance(d, dict)]
    chosen = database or (db_ids[0] if db_ids else "")
    picked = []
    for i, table in enumerate(tables):
        at = f"tables[{i}]"
        if not isinstance(table, dict):
            raise bad(at, "is not an object", 'each table is {"$id": …, "columns": […]}')
        _check_keys(bad, at, table, TABLE_KEYS)
        if not isinstance(table.get("$id"), str):
            raise bad(f"{at}.$id", "is missing or not a string", "give each table its id")
        for j, column in enumerate(table.get("columns") or []):
            _check_column(bad, f"{at}.columns[{j}]", column)
        for j, index in enumerate(table.get("indexes") or []):
            _check_index(bad, f"{at}.indexes[{j}]", index)
        if table.get("databaseId") in (None, chosen) or not chosen:
            picked.append(table)
    name = next((str(d.get("name")) for d in databases if d.get("$id") == chosen), chosen)
    picked.sort(key=lambda t: str(t["$id"]))
    return Schema(chosen, picked, str(data.get("projectId") or ""), name)


def _check_keys(bad: Any, at: str, item: dict[str, Any], allowed: set[str]) -> None:
    for key in item:
        if key not in allowed:
            raise bad(f"{at}.{key}", "is not a known key", f"known: {', '.join(sorted(allowed))}")


def _check_column(bad: Any, at: str, column: Any) -> None:
    if not isinstance(column, dict):
        raise bad(at, "is not an object", 'each column is {"key": …, "type": …}')
    allowed = COLUMN_KEYS | {"relatedTable", "relationType", "twoWay", "twoWayKey", "onDelete"}
    _check_keys(bad, at, column, allowed | {"side"})
    if not isinstance(column.get("key"), str):
        raise bad(f"{at}.key", "is missing or not a string", "name each column with key")
    if column.get("type") not in STORED_TYPES:
        raise bad(
            f"{at}.type",
            f"is {column.get('type')!r}, not a column type",
            f"use one of {', '.join(sorted(STORED_TYPES))}",
        )


def _check_index(bad: Any, at: str, index: Any) -> None:
    if not isinstance(index, dict):
        raise bad(at, "is not an object", 'each index is {"key": …, "type": …, "columns": […]}')
    _check_keys(bad, at, index, INDEX_KEYS)
    if index.get("type") not in INDEX_TYPES:
        raise bad(
            f"{at}.type",
            f"is {index.get('type')!r}, not an index type",
            f"use one of {', '.join(INDEX_TYPES)}",
        )


# ------------------------------------------------------------------------- markers


def marker_of(schema: Schema) -> str:
    """A schema's marker: the fingerprint of its tables, Workbook's own left out."""
    from workbook.core.ledger import WORKBOOK_TABLES

    mine = [t for t in schema.tables if t.get("$id") not in WORKBOOK_TABLES]
    return Schema(schema.database_id, mine).fingerprint()


def live_marker(client: Any, database_id: str) -> str:
    from workbook.core.schema import snapshot

    return marker_of(snapshot(client, database_id))
