"""``workbook lint``: each migration replayed after its predecessors (cached), the schema
change it makes classified, and findings reported with stable codes (as Atlas's analyzers):

- ``DS101`` deletes a table, ``DS102`` deletes a column, ``DS103`` recreates a column
  (type, array, encrypt or format change): destructive — fail unless acknowledged;
- ``MF101`` adds a unique index to an existing table (duplicates fail it), ``MF102`` makes
  an existing column required (nulls fail it), ``MF103`` shrinks a size, ``MF104`` removes
  enum elements: may fail on existing data;
- ``BC101`` renames a column (a dropped and an added column with the same definition):
  backward-incompatible for deployed clients;
- ``LM101`` / ``LM102`` comes within 10% of Appwrite's column (1010) or index (58) limit.

A finding is acknowledged by a cell tag ``allow:<code>`` in the migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbook.command import replay
from workbook.core.catalog import Migration, find, load_catalog, read_notebook
from workbook.core.config import Workspace
from workbook.core.schema import Schema
from workbook.core.schema_diff import Change, plan

MAX_COLUMNS = 1010
MAX_INDEXES = 58
DESTRUCTIVE = ("DS101", "DS102", "DS103")


@dataclass(frozen=True)
class LintFinding:
    code: str
    migration: str
    target: str
    message: str
    acknowledged: bool = False

    @property
    def fails(self) -> bool:
        return self.code in DESTRUCTIVE and not self.acknowledged


def lint(workspace: Workspace, migration: str | None = None) -> list[LintFinding]:
    catalog = load_catalog(workspace.migrations)
    chosen = [find(catalog, migration)] if migration else catalog
    findings: list[LintFinding] = []
    for m in chosen:
        before = _schema_before(workspace, catalog, m)
        after = replay.expected(workspace, m.version)
        allowed = _allowed(m)
        for finding in classify(m.name, before, after):
            findings.append(
                LintFinding(
                    finding.code,
                    finding.migration,
                    finding.target,
                    finding.message,
                    finding.code in allowed,
                )
            )
    return findings


def _schema_before(workspace: Workspace, catalog: list[Migration], m: Migration) -> Schema:
    earlier = [x for x in catalog if x.number < m.number]
    if not earlier:
        return Schema("main", [])
    return replay.expected(workspace, earlier[-1].version)


def _allowed(m: Migration) -> set[str]:
    tags = {
        t for c in read_notebook(m.path)["cells"] for t in (c.get("metadata") or {}).get("tags", [])
    }
    return {t.split(":", 1)[1] for t in tags if t.startswith("allow:")}


def classify(name: str, before: Schema, after: Schema) -> list[LintFinding]:
    out: list[LintFinding] = []
    changes = plan(before, after)
    existing = {str(t.get("$id")) for t in before.tables}
    for c in changes:
        out.extend(_codes(name, c, existing))
    for t in after.tables:
        table = str(t.get("$id"))
        columns, indexes = len(t.get("columns") or []), len(t.get("indexes") or [])
        if columns >= MAX_COLUMNS * 0.9:
            out.append(
                LintFinding("LM101", name, table, f"{columns} columns (limit {MAX_COLUMNS})")
            )
        if indexes >= MAX_INDEXES * 0.9:
            out.append(
                LintFinding("LM102", name, table, f"{indexes} indexes (limit {MAX_INDEXES})")
            )
    return out


def _codes(name: str, c: Change, existing: set[str]) -> list[LintFinding]:
    where = f"{c.table}.{c.key}" if c.key else c.table
    found = []

    def add(code: str, message: str) -> None:
        found.append(LintFinding(code, name, where, message))

    if c.kind == "table" and c.action == "delete":
        add("DS101", f"deletes table {c.table} and its rows")
    elif c.kind == "column" and c.action == "delete":
        if c.rename_candidate:
            add("BC101", f"renames {where} to {c.rename_candidate}: deployed clients break")
        else:
            add("DS102", f"deletes column {where} and its values")
    elif c.kind == "column" and c.action == "recreate":
        add("DS103", f"recreates column {where} ({c.detail}): its values are rewritten")
    elif c.kind == "index" and c.action == "add" and c.table in existing:
        if (c.after or {}).get("type") == "unique":
            add("MF101", f"unique index {where} fails on existing duplicates")
    elif c.kind == "column" and c.action == "update" and c.before and c.after:
        if c.after.get("required") and not c.before.get("required"):
            add("MF102", f"makes {where} required: existing nulls fail it")
        if (c.after.get("size") or 0) < (c.before.get("size") or 0):
            add("MF103", f"shrinks {where} from {c.before['size']} to {c.after['size']}")
        removed = set(c.before.get("elements") or []) - set(c.after.get("elements") or [])
        if removed:
            add("MF104", f"removes enum elements {', '.join(sorted(removed))} of {where}")
    return found
