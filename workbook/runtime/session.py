"""``workbook.connect()``: what a migration notebook's connect cell calls.

The ledger write belongs to the notebook itself (DESIGN.md "Recording runs not started by
`workbook up`"): connecting records a ``running`` entry, ``wb.done()`` records ``applied``,
and a cell that raises records ``failed``. A run started by papermill, by JupyterLab or by
``workbook up`` is therefore recorded the same way; the runner only adds what it alone
knows (the archive path) and settles entries left ``running`` by a dead kernel.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import json
import re
from pathlib import Path
from typing import Any

from workbook.core.catalog import DIRECTIONS, Migration, find, load_catalog
from workbook.core.client import Target, connect_target
from workbook.core.config import Environment, Workspace, find_workspace
from workbook.core.ledger import Ledger, operator, write_mirror
from workbook.core.runs import new_run_id
from workbook.core.status import check_down, check_up
from workbook.errors import LockHeld, WorkbookError
from workbook.runtime.dryrun import DryRunProxy, Plan
from workbook.runtime.ops import Ops
from workbook.secrets import redact
from workbook.settings import DRY_RUN_STATE, RUN_LOCK

_BANNER_COLOURS = {
    "production": "#b3261e",
    "prod": "#b3261e",
    "staging": "#b26a00",
    "local": "#1e6b35",
}

LEDGER_PREFIX = "workbook_"

_current: Workbook | None = None


def current() -> Workbook:
    if _current is None:
        raise WorkbookError(
            "no migration is connected in this kernel",
            "run the connect cell (workbook.connect(...)) first",
        )
    return _current


class Workbook(Ops):
    """A migration's connection to one environment: ops, ledger, banner and schema views."""

    def __init__(
        self,
        target: Target,
        workspace: Workspace,
        migration: Migration | None,
        *,
        direction: str,
        dry_run: bool,
        run_id: str,
        plan: Plan,
    ) -> None:
        service: Any = DryRunProxy(target.tables, plan) if dry_run else target.tables
        super().__init__(service, target.environment.database, dry_run=dry_run, plan=plan)
        self.target = target
        self.client = self.tables.client  # guarded in a dry run: non-GET calls are planned
        self.workspace = workspace
        self.environment: Environment = target.environment
        self.migration = migration
        self.direction = direction
        self.run_id = run_id
        self.operator = operator()
        self.ledger = Ledger(target.tables, self.database_id, self.environment.name)
        self.finished = False
        self._owns_lock = False
        self._schema_before: Any = None

    # -- life cycle ----------------------------------------------------------------------
    def _begin(self, catalog: list[Migration]) -> None:
        migration = self.migration
        self._schema_before = self.schema()
        if self.dry_run:
            state = _dry_run_state_file()
            if state and state.is_file() and state.stat().st_size:
                self.load_dry_run_state(json.loads(state.read_text(encoding="utf-8")))
            return
        if migration is None:
            return
        self.ledger.ensure()
        states = self.ledger.states()
        # The same order rules as `workbook up`/`down`, for runs started in JupyterLab too.
        check = check_up if self.direction == "up" else check_down
        check(catalog, states, migration, self.environment.name)
        runner_lock = RUN_LOCK.get()
        if runner_lock:  # `workbook up` holds the lock for its whole sequence
            holder = self.ledger.lock_holder()
            if not holder or holder.get("run_id") != runner_lock:
                raise LockHeld(
                    f"the runner's lock on '{self.environment.name}' was lost",
                    "another process unlocked it; run `workbook up` again",
                )
        else:
            self._owns_lock = self.ledger.acquire(self.run_id, self.operator)
        try:
            self.ledger.start(
                self.run_id,
                version=migration.version,
                description=migration.description,
                direction=self.direction,
                checksum=migration.checksum,
                applied_by=self.operator,
            )
        except BaseException:
            self._release()  # a run that never started must not keep the environment locked
            raise

    def done(self) -> Any:
        """Close the run: record it as applied (or, for a dry run, show the plan)."""
        if self.finished:
            return None
        self.finished = True
        if self.migration is not None and not self.dry_run:
            self.ledger.finish(self.run_id, "applied")
            self._mirror()
            self._release()
        state = _dry_run_state_file()
        if self.dry_run and state:
            state.write_text(json.dumps(self.dry_run_state()), encoding="utf-8")
        return self.summary()

    def fail(self, error: str) -> None:
        """Record the run as failed; called by the kernel hook when a cell raises."""
        if self.finished or self.migration is None or self.dry_run:
            return
        self.finished = True
        try:
            reason = redact(error, (self.environment.key_env,))
            self.ledger.finish(self.run_id, "failed", error=reason)
            self._mirror()
        finally:
            self._release()

    def _release(self) -> None:
        if self._owns_lock:
            self.ledger.release(self.run_id)
            self._owns_lock = False

    def _mirror(self) -> None:
        if RUN_LOCK.get():
            return  # `workbook up` writes it after the run, with the archive path
        path = self.workspace.history_dir(self.environment.name) / "applied.json"
        write_mirror(path, self.ledger.states())

    # -- views ---------------------------------------------------------------------------
    def schema(self) -> Any:
        """The live schema of the environment's database (rendered as tables)."""
        from workbook.core.schema import snapshot

        schema = snapshot(self.client, self.database_id)
        # Workbook's own ledger and lock tables are not the application's schema.
        schema.tables = [t for t in schema.tables if not t["$id"].startswith(LEDGER_PREFIX)]
        return schema

    def banner(self) -> Banner:
        return Banner(self)

    def summary(self) -> Summary:
        return Summary(self, self._schema_before, self.schema())


class Banner:
    """Which environment a notebook is about to change; loud for production."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb

    def _facts(self) -> list[tuple[str, str]]:
        wb = self.wb
        m = wb.migration
        return [
            ("environment", wb.environment.describe()),
            ("migration", f"{m.version} — {m.description}" if m else "(none)"),
            ("direction", wb.direction + ("  (DRY RUN: nothing is written)" if wb.dry_run else "")),
            ("run", wb.run_id),
            ("operator", wb.operator),
        ]

    def __repr__(self) -> str:
        return "\n".join(f"{k:>11}: {v}" for k, v in self._facts())

    def _repr_html_(self) -> str:
        env = self.wb.environment.name
        colour = _BANNER_COLOURS.get(env, "#3b4a6b")
        rows = "".join(
            f"<tr><th style='text-align:right;padding-right:1em'>{html.escape(k)}"
            f"</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._facts()
        )
        return (
            f"<div style='border-left:8px solid {colour};padding:6px 12px;"
            f"background:{colour}14'><b style='color:{colour}'>"
            f"WORKBOOK · {html.escape(env.upper())}</b><table>{rows}</table></div>"
        )


class Summary:
    """The closing cell's view: outcome, plan (dry run) or schema diff, schema after."""

    def __init__(self, wb: Workbook, before: Any, after: Any) -> None:
        self.wb, self.before, self.after = wb, before, after

    def _headline(self) -> str:
        wb = self.wb
        version = wb.migration.version if wb.migration else "-"
        if wb.dry_run:
            return f"dry run of {version} {wb.direction}: {len(wb.plan)} planned operation(s)"
        return f"{version} {wb.direction}: recorded as applied on '{wb.environment.name}'"

    def __repr__(self) -> str:
        from workbook.core.schema import diff

        parts = [self._headline()]
        if self.wb.dry_run:
            parts.append(repr(self.wb.plan.to_frame()))
        else:
            parts.append(repr(diff(self.before, self.after)))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        from workbook.core.schema import diff

        body = (
            self.wb.plan._repr_html_()
            if self.wb.dry_run
            else diff(self.before, self.after).to_html(index=False)
        )
        after = "Live schema (a dry run changes nothing)" if self.wb.dry_run else "Schema after"
        return (
            f"<h4>{html.escape(self._headline())}</h4>{body}"
            f"<h4>{after}</h4>{self.after._repr_html_()}"
        )


def connect(
    environment: str = "local",
    version: str | None = None,
    *,
    direction: str = "up",
    dry_run: bool = False,
    run_id: str | None = None,
) -> Workbook:
    """Connect a migration notebook to an environment and open its run in the ledger."""
    global _current
    if direction not in DIRECTIONS:
        raise WorkbookError(
            f"direction must be 'up' or 'down', not {direction!r}",
            "set direction in the parameters cell",
        )
    workspace = find_workspace()
    env = workspace.environment(environment)
    catalog = load_catalog(workspace.migrations) if version else []
    migration = find(catalog, version) if version else None
    if migration and direction == "down" and not migration.reversible:
        raise WorkbookError(
            f"migration {migration.version} has no down cells",
            "it is irreversible; restore from a backup instead",
        )
    run_id = run_id or new_run_id(migration.version if migration else "000", direction)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$", run_id):
        raise WorkbookError(
            f"run_id {run_id!r} is not a valid id", "let Workbook choose it (leave run_id empty)"
        )
    if _current is not None and not _current.finished:
        _current.fail("superseded: the connect cell ran again before done()")
    target = connect_target(workspace, env)
    wb = Workbook(
        target,
        workspace,
        migration,
        direction=direction,
        dry_run=bool(dry_run),
        run_id=run_id,
        plan=Plan(),
    )
    wb._begin(catalog)
    _current = wb
    atexit.unregister(_close_on_exit)
    atexit.register(_close_on_exit)
    _show(wb.banner())
    _show(wb._schema_before)
    return wb


def _dry_run_state_file() -> Path | None:
    name = DRY_RUN_STATE.get()
    return Path(name) if name else None


def _close_on_exit() -> None:
    """A kernel shut down mid-migration (notebook closed, kernel restarted) leaves no run
    ``running`` and no lock held: the run is recorded as failed."""
    if _current is not None and not _current.finished:
        # at exit the target may be gone already; then the runner settles the entry
        with contextlib.suppress(Exception):
            _current.fail("the kernel stopped before wb.done()")


def _show(obj: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        print(repr(obj))
        return
    if get_ipython() is not None:
        display(obj)
    else:
        print(repr(obj))
