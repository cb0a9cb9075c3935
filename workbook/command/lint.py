"""``workbook lint``: each migration replayed after its predecessors (cached), the schema
change each of its cells makes classified, and findings reported with stable codes (as
Atlas's analyzers):

- ``DS101`` deletes a table, ``DS102`` deletes a column, ``DS103`` recreates a column
  (type, array, encrypt or format change): destructive — fail unless acknowledged;
- ``MF101`` adds a unique index to an existing table (duplicates fail it), ``MF102`` makes
  an existing column required (nulls fail it), ``MF103`` shrinks a size, ``MF104`` removes
  enum elements: may fail on existing data. With an environment (``--env``) each is checked
  with real queries against its rows; rows that would fail it fail the lint too;
- ``BC101`` renames a column (a dropped and an added column with the same definition):
  backward-incompatible for deployed clients;
- ``LM101`` / ``LM102`` comes within 10% of Appwrite's column (1010) or index (58) limit,
  ``LM103`` within 10% of its row-width limit (65535 bytes, estimated as Appwrite does from
  the column types: ``workbook.local.columns.row_width``) or over it.

Each finding names the cell that made the change (the replay records the schema after every
up cell). A finding is acknowledged by a cell tag ``allow:<code>`` in the migration.
``up``/``down --dry-run`` show the findings of the migrations they would run (``for_plan``);
for ``down`` the migration's down cells are replayed after it, so each finding names its down
cell too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workbook.command import replay
from workbook.core.catalog import Migration, find, load_catalog, read_notebook
from workbook.core.config import Workspace
from workbook.core.schema import Schema
from workbook.core.schema_diff import Change, plan
from workbook.errors import WorkbookError
from workbook.local.columns import MAX_COLUMNS, ROW_WIDTH_LIMIT, row_width
from workbook.local.indexes import MAX_INDEXES

DESTRUCTIVE = ("DS101", "DS102", "DS103")
MAY_FAIL = ("MF101", "MF102", "MF103", "MF104")


@dataclass(frozen=True)
class Subject:
    """What a data check needs: the table, the column(s) and the values at stake."""

    table: str
    columns: tuple[str, ...]
    value: Any = None


@dataclass(frozen=True)
class LintFinding:
    code: str
    migration: str
    target: str
    message: str
    acknowledged: bool = False
    cell: str = ""  # e.g. `cells[4] wb.delete_column("posts", "legacy")`
    live: str = ""  # what the environment's rows say, when one was given
    blocking: bool = False  # the environment holds rows this change fails on
    subject: Subject | None = field(default=None, repr=False, compare=False)

    @property
    def fails(self) -> bool:
        return (self.code in DESTRUCTIVE or self.blocking) and not self.acknowledged

    def line(self) -> str:
        """The finding as one line of text."""
        where = f" ({self.cell})" if self.cell else ""
        live = f" — {self.live}" if self.live else ""
        allowed = " (allowed)" if self.acknowledged else ""
        return f"{self.code}{allowed} {self.migration} {self.target}{where}: {self.message}{live}"

    def as_dict(self) -> dict[str, Any]:
        shown = asdict(self)
        shown.pop("subject")
        return {**shown, "fails": self.fails}


def lint(
    workspace: Workspace, migration: str | None = None, env: str | None = None
) -> list[LintFinding]:
    """Every migration's findings (or one's); with ``env``, data checks against it."""
    catalog = load_catalog(workspace.migrations)
    chosen = [find(catalog, migration)] if migration else catalog
    with _live(workspace, env) as live:
        _replay_once(workspace, chosen)
        return [f for m in chosen for f in lint_migration(workspace, catalog, m, live)]


def _replay_once(workspace: Workspace, chosen: list[Migration]) -> None:
    """Replay up to the last chosen migration in one sequence (one server, pre-warmed
    kernels), so each migration's lint below reads the cache instead of starting its own."""
    if chosen:
        replay.expected(workspace, max(chosen, key=lambda m: m.number).version, traced=True)


def lint_migration(
    workspace: Workspace, catalog: list[Migration], m: Migration, live: LiveData | None = None
) -> list[LintFinding]:
    """``m`` replayed after its predecessors, its changes classified cell by cell."""
    before = _schema_before(workspace, catalog, m)
    after = replay.expected(workspace, m.version, traced=True)
    cells = replay.load_cells(replay.cells_file(workspace, catalog, m))
    found, cell = _by_cell(m.name, before, cells)
    found.extend(replace(f, cell=cell) for f in limits(m.name, after))
    return _settle(m, found, live)


def _by_cell(
    name: str, before: Schema, cells: list[dict[str, Any]]
) -> tuple[list[LintFinding], str]:
    """The findings of each recorded cell's change, and the last cell's label."""
    existing = {str(t.get("$id")) for t in before.tables}
    found: list[LintFinding] = []
    previous, cell = before, ""
    for record in cells:
        current = Schema(before.database_id, record["tables"])
        cell = _cell_label(record)
        for change in plan(previous, current):
            found.extend(_findings(name, change, existing, cell))
        previous = current
    return found, cell


def _down_findings(
    workspace: Workspace, catalog: list[Migration], m: Migration
) -> list[LintFinding]:
    """``m``'s down cells replayed after it, each change attributed to its down cell; what they
    leave undone of the way back to the schema before ``m`` is labelled "down cells"."""
    undone = replay.expected(workspace, m.version)
    back = _schema_before(workspace, catalog, m)
    label = "down cells"
    try:
        records = replay.down_cells(workspace, m.version)
    except WorkbookError as exc:  # the plan is still worth showing, with the reason
        records, label = [], f"down cells; their replay failed: {exc.message}"
    found, _ = _by_cell(m.name, undone, records)
    reached = Schema(undone.database_id, records[-1]["tables"]) if records else undone
    rest = classify(m.name, reached, back)
    return found + [replace(f, cell=label) for f in rest]


def for_plan(
    workspace: Workspace, env: str | None, todo: list[Migration], direction: str
) -> dict[str, list[LintFinding]]:
    """The findings of the migrations a dry run would run, with data checks against the
    environment; ``down`` classifies the change back (what the down cells undo)."""
    catalog = load_catalog(workspace.migrations)
    out: dict[str, list[LintFinding]] = {}
    with _live(workspace, env) as live:
        _replay_once(workspace, todo)
        for m in todo:
            if direction == "up":
                out[m.version] = lint_migration(workspace, catalog, m, live)
                continue
            out[m.version] = _settle(m, _down_findings(workspace, catalog, m), live)
    return out


def _settle(m: Migration, found: list[LintFinding], live: LiveData | None) -> list[LintFinding]:
    allowed = _allowed(m)
    settled = [replace(f, acknowledged=f.code in allowed) for f in found]
    return [live.check(f) if live else f for f in settled]


def _cell_label(record: dict[str, Any]) -> str:
    """``cells[6] [allow:DS102] wb.delete_column(…)``: where, how it is tagged, what it does."""
    if record.get("cell") is None:
        return str(record.get("line") or "")
    tags = [str(t) for t in record.get("tags") or [] if t not in ("up", "down")]
    shown = [f"cells[{record['cell']}]", *(f"[{t}]" for t in tags)]
    if record.get("line"):
        shown.append(str(record["line"]))
    return " ".join(shown)


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
    """The findings of a change from ``before`` to ``after`` (not attributed to cells)."""
    existing = {str(t.get("$id")) for t in before.tables}
    out = [f for c in plan(before, after) for f in _findings(name, c, existing, "")]
    return out + limits(name, after)


def limits(name: str, after: Schema) -> list[LintFinding]:
    out: list[LintFinding] = []
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
        width = row_width(list(t.get("columns") or []))
        if width >= ROW_WIDTH_LIMIT * 0.9:
            over = " — over it: Appwrite refuses the column" if width >= ROW_WIDTH_LIMIT else ""
            out.append(
                LintFinding(
                    "LM103",
                    name,
                    table,
                    f"estimated row width {width} bytes (limit {ROW_WIDTH_LIMIT}){over}",
                )
            )
    return out


def _findings(name: str, c: Change, existing: set[str], cell: str) -> list[LintFinding]:
    where = f"{c.table}.{c.key}" if c.key else c.table
    found: list[LintFinding] = []

    def add(code: str, message: str, subject: Subject | None = None) -> None:
        found.append(LintFinding(code, name, where, message, cell=cell, subject=subject))

    if c.kind == "table" and c.action == "delete":
        add("DS101", f"deletes table {c.table} and its rows")
    elif c.kind == "column" and c.action == "delete":
        if c.rename_candidate:
            add("BC101", f"renames {where} to {c.rename_candidate}: deployed clients break")
        else:
            add("DS102", f"deletes column {where} and its values")
    elif c.kind == "column" and c.action == "rename":
        add("BC101", f"renames {where} to {c.new_key}: deployed clients break")
    elif c.kind == "column" and c.action == "recreate":
        add("DS103", f"recreates column {where} ({c.detail}): its values are rewritten")
    elif c.kind == "index" and c.action == "add" and c.table in existing:
        if (c.after or {}).get("type") == "unique":
            columns = tuple(str(x) for x in (c.after or {}).get("columns") or [])
            add(
                "MF101",
                f"unique index {where} fails on existing duplicates",
                Subject(c.table, columns),
            )
    elif c.kind == "column" and c.action == "update" and c.before and c.after:
        subject = Subject(c.table, (c.key,))
        if c.after.get("required") and not c.before.get("required"):
            add("MF102", f"makes {where} required: existing nulls fail it", subject)
        if (c.after.get("size") or 0) < (c.before.get("size") or 0):
            add(
                "MF103",
                f"shrinks {where} from {c.before['size']} to {c.after['size']}",
                replace(subject, value=c.after["size"]),
            )
        removed = set(c.before.get("elements") or []) - set(c.after.get("elements") or [])
        if removed:
            add(
                "MF104",
                f"removes enum elements {', '.join(sorted(removed))} of {where}",
                replace(subject, value=sorted(removed)),
            )
    return found


# --------------------------------------------------------------------------- data checks


class LiveData:
    """Real queries against an environment's rows: does a may-fail change fail there?"""

    def __init__(self, client: Any, database: str, env: str) -> None:
        self.client = client
        self.database = database
        self.env = env

    def check(self, finding: LintFinding) -> LintFinding:
        subject = finding.subject
        if finding.code not in MAY_FAIL or subject is None:
            return finding
        from appwrite.exception import AppwriteException

        try:
            bad = self._offending(finding.code, subject)
        except AppwriteException as exc:
            if exc.code in (400, 404):  # not there yet: an earlier pending migration adds it
                return replace(
                    finding, live=f"not checked: {subject.table} differs in '{self.env}'"
                )
            raise
        if not bad:
            return replace(finding, live=f"no row of '{self.env}' fails it")
        return replace(finding, live=f"{bad} row(s) of '{self.env}' fail it", blocking=True)

    def _offending(self, code: str, s: Subject) -> int:
        from appwrite.query import Query

        column = s.columns[0]
        if code == "MF102":
            return self._count(s.table, [Query.is_null(column)])
        if code == "MF104":
            return self._count(s.table, [Query.equal(column, list(s.value))])
        if code == "MF103":
            values = self._values(s.table, [column], [Query.is_not_null(column)])
            return sum(1 for (v,) in values if len(str(v)) > int(s.value))
        seen: set[tuple[Any, ...]] = set()
        duplicates = 0
        for values in self._values(s.table, list(s.columns), []):
            if any(v is None for v in values):
                continue  # a unique index lets nulls repeat
            key = tuple(repr(v) for v in values)
            duplicates += key in seen
            seen.add(key)
        return duplicates

    def _rows_path(self, table: str) -> str:
        return f"/tablesdb/{self.database}/tables/{table}/rows"

    def _count(self, table: str, queries: list[str]) -> int:
        from appwrite.query import Query

        from workbook.core.paging import raw_get

        answer = raw_get(
            self.client, self._rows_path(table), {"queries": [*queries, Query.limit(1)]}
        )
        return int(answer.get("total") or 0)

    def _values(
        self, table: str, columns: list[str], queries: list[str]
    ) -> Iterator[tuple[Any, ...]]:
        from appwrite.query import Query

        from workbook.core.paging import iter_items

        selected = [*queries, Query.select(["$id", *columns])]
        for row in iter_items(self.client, self._rows_path(table), "rows", selected):
            yield tuple(row.get(c) for c in columns)


@contextlib.contextmanager
def _live(workspace: Workspace, env: str | None) -> Iterator[LiveData | None]:
    """The environment's rows, for the data checks (nothing when no environment is given)."""
    if env is None:
        yield None
        return
    from workbook.command.commands import opened

    with opened(workspace, env, catalog=[], adopted=False) as o:
        yield LiveData(o.target.client, o.environment.database, o.environment.name)


def for_dry_run(
    workspace: Workspace, env: str | None, todo: list[Migration], direction: str
) -> dict[str, list[LintFinding] | str]:
    """``for_plan`` for a dry run, which a lint that cannot run (a replay that fails, an
    environment that does not answer) must not stop: the reason is shown in its place."""
    from appwrite.exception import AppwriteException

    from workbook.command.runner import Interrupted

    try:
        return dict(for_plan(workspace, env, todo, direction))
    except Interrupted:  # Ctrl-C stops the dry run too
        raise
    except (WorkbookError, AppwriteException, OSError) as exc:
        reason = f"not run: {str(getattr(exc, 'message', exc)).splitlines()[0]}"
        return {m.version: reason for m in todo}
