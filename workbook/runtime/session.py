"""``workbook.connect()``: what a migration notebook's connect cell calls.

The run belongs to the notebook, whoever started the kernel: connecting opens it through
the journal (``workbook.core.journal``, the one owner of a run's states), ``wb.done()``
finishes it as applied, and a cell that raises finishes it as failed. A kernel running
alone — JupyterLab, plain papermill — also holds the lock with a heartbeat, asks for
confirmation on ``confirm = true`` environments, takes the pre-run backup and writes the
archive; under ``workbook up`` the runner does those, once per sequence or run.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbook.core import archive
from workbook.core.catalog import DIRECTIONS, Migration, find, load_catalog
from workbook.core.client import Target, connect_target
from workbook.core.config import Environment, Workspace, find_workspace
from workbook.core.ids import is_appwrite_id
from workbook.core.journal import Journal, KeepAlive
from workbook.core.ledger import Ledger, RunRecord, RunState
from workbook.core.runs import new_run_id
from workbook.core.status import check_down, check_up
from workbook.errors import WorkbookError
from workbook.runtime import banner, frontend, magics, papermill_output
from workbook.runtime.backups import BackupGuard, TableBackups
from workbook.runtime.dryrun import DryRunProxy, Plan
from workbook.runtime.ops import Ops
from workbook.secrets import is_secret_name
from workbook.settings import DRY_RUN_STATE, RUN_LOCK, SAVE_TIMEOUT

LEDGER_PREFIX = "workbook_"
# How long the kernel waits for JupyterLab to save the notebook it archives; bounded
# because a frontend without ipylab (VS Code, an old JupyterLab) never will.
DEFAULT_SAVE_TIMEOUT = 20.0

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
        if not dry_run:  # each table is backed up before its first data-losing write
            version = migration.version if migration else "connect"
            backups = TableBackups.for_run(target, workspace, run_id, version)
            service = BackupGuard(target.tables, backups)
        super().__init__(service, target.environment.database, dry_run=dry_run, plan=plan)
        self.target = target
        self.client = self.tables.client  # guarded in a dry run: non-GET calls are planned
        self.workspace = workspace
        self.environment: Environment = target.environment
        self.migration = migration
        self.direction = direction
        self.run_id = run_id
        self.journal = Journal(target, workspace)
        self.operator = self.journal.operator
        self.finished = False
        self.record: RunRecord | None = None
        self.lock_id: str | None = None  # the lock this kernel holds itself, if any
        self._keep_alive: KeepAlive | None = None
        self._schema_before: Any = None
        # why a checklist gate stopped this run, while it stays stopped (runtime/checklist)
        self.awaiting: str | None = None
        # the parameters that applied (`connect` sets them), and when the run began: the
        # archive's header shows both (the runner records its own for the runs it starts)
        self.parameters: dict[str, Any] = {}
        self._clock = time.monotonic()

    @property
    def ledger(self) -> Ledger:
        return self.journal.ledger

    @property
    def under_runner(self) -> bool:
        """`workbook up` holds the lock, takes the backup and archives papermill's output."""
        return RUN_LOCK.get() is not None

    @property
    def interactive(self) -> bool:
        """A person steps through this run in JupyterLab: only JupyterLab holds the outputs,
        so the kernel asks it to save the notebook and archives that."""
        return (
            not self.under_runner
            and not frontend.is_batch()
            and frontend.started_by_jupyter_server()
        )

    @property
    def archive_path(self) -> Path:
        name = self.migration.name if self.migration else "000_connect"
        return archive.archive_path(self.workspace, self.environment.name, self.run_id, name)

    # -- life cycle ----------------------------------------------------------------------
    def _begin(self, catalog: list[Migration]) -> None:
        """Reads first (schema, adoption, order rules), then the run is opened: lock,
        backup, ``running`` row. A failure on the way leaves no lock behind."""
        migration = self.migration
        self._schema_before = self.schema()
        if self.dry_run:
            state = _dry_run_state_file()
            if state and state.is_file() and state.stat().st_size:
                self.load_dry_run_state(json.loads(state.read_text(encoding="utf-8")))
            return
        if migration is None:
            return
        self.journal.check_adopted()
        # The same order rules as `workbook up`/`down`, for runs started in JupyterLab too.
        check = check_up if self.direction == "up" else check_down
        check(catalog, self.journal.states(), migration, self.environment.name)
        self._confirm()
        self.ledger.ensure()
        runner_lock = RUN_LOCK.get()
        if runner_lock:
            self.journal.verify(runner_lock)
        else:
            self.journal.acquire(self.run_id)
            self.lock_id = self.run_id
            self._keep_alive = KeepAlive(self.journal, self.run_id)
            self._keep_alive.start()
        try:
            if not runner_lock:
                self._backup()
            rel = archive.relative(self.workspace, self.archive_path)
            self.record = self.journal.open(
                self.run_id,
                lock_id=runner_lock or self.run_id,
                migration=migration,
                direction=self.direction,
                archive_path=rel,
            )
        except BaseException:
            self._release()  # a run that never started must not keep the environment locked
            raise

    def _confirm(self) -> None:
        """Environments marked ``confirm = true`` change only on purpose (the CLI asked
        already when it runs the notebook)."""
        if not self.environment.confirm or self.under_runner:
            return
        from workbook.runtime.confirm import require_confirmation

        m = self.migration
        env = self.environment
        what = f"({env.describe()})"
        if m is not None:
            what += f" with migration {m.version} — {m.description}, {self.direction}"
        require_confirmation(
            env.name, f"{env.name}:{m.version if m else ''}:{self.direction}", what
        )

    def _backup(self) -> None:
        """What `workbook up` backs up before a sequence, for a kernel running alone:
        with ``backup = "all"`` the whole database now; otherwise each table is backed up
        before its first data-losing write (``workbook/runtime/backups.py``)."""
        if isinstance(self.tables, BackupGuard):
            self.tables.backups.start()

    def done(self) -> Any:
        """Close the run: record it as applied (or, for a dry run, show the plan)."""
        if self.finished:
            return None
        self.finished = True
        shown = False
        if self.migration is not None and not self.dry_run:
            try:
                self.record = self.journal.finish(self.run_id, RunState.APPLIED)
                if self.interactive:  # the saved notebook, hence the archive, must show it
                    _show(self.summary())
                    shown = True
                self._close()
            finally:
                self._release()
        state = _dry_run_state_file()
        if self.dry_run and state:
            plan = {"run_id": self.run_id, "steps": self.plan.to_records()}
            state.write_text(json.dumps({**self.dry_run_state(), "plan": plan}), encoding="utf-8")
        return None if shown else self.summary()

    def fail(self, error: str, *, save: bool = True, state: RunState = RunState.FAILED) -> None:
        """Record the run as failed (or ``awaiting``, stopped at a checklist gate); called by
        the kernel hook when a cell raises. ``save=False`` when the kernel is stopping: no
        frontend will answer then."""
        if self.finished or self.migration is None or self.dry_run:
            return
        self.finished = True
        try:
            self.record = self.journal.finish(self.run_id, state, error=error)
            self._close(save=save)
        finally:
            self._release()

    def stop(self, why: str, *, save: bool = True) -> None:
        """The run ends unfinished (kernel stopping, connect cell re-run): failed, or
        ``awaiting`` when it stands at a checklist gate, so its ticks carry to the next run."""
        if self.awaiting:
            self.fail(self.awaiting, save=save, state=RunState.AWAITING)
        else:
            self.fail(why, save=save)

    def _close(self, *, save: bool = True) -> None:
        """What a kernel running alone does at the end that the runner does otherwise:
        archive the executed notebook and refresh applied.json."""
        if self.under_runner or self.record is None:
            return
        if self.interactive:
            self._archive_from_frontend(save)
        else:
            self.archive()
        self.journal.mirror()

    def archive(
        self, notebook: dict[str, Any] | None = None, facts: dict[str, Any] | None = None
    ) -> Path | None:
        """Write this run's archive: ``notebook`` when given (what JupyterLab saved), else
        the output papermill is writing, else a page saying no output was saved."""
        if self.record is None:
            return None
        if notebook is None:
            notebook = papermill_output.read_current()
        extra = {"archived_by": "kernel", **self._run_facts(), **(facts or {})}
        self.journal.annotate(self.record, extra, notebook=notebook)
        return self.archive_path

    def _run_facts(self) -> dict[str, Any]:
        """What the runner records for the runs it starts, for a run this kernel archives
        itself (JupyterLab): how long it took, the parameters that applied and the folder
        its backup went to (`restore` needs it), for the HTML run page's header."""
        facts: dict[str, Any] = {
            "seconds": round(time.monotonic() - self._clock, 3),
            "parameters": self.parameters,
        }
        backups = self.tables.backups if isinstance(self.tables, BackupGuard) else None
        if backups is not None and backups.folder.exists():
            facts["backup"] = archive.relative(self.workspace, backups.folder)
        return facts

    def _archive_from_frontend(self, save: bool) -> None:
        """Archive what JupyterLab saved when the run ended; when it could not save, the
        copy it saved last, marked incomplete, and the cell output says so."""
        rel = archive.relative(self.workspace, self.archive_path)
        saved = (
            self._save_notebook()
            if save
            else frontend.Saved(None, "the kernel was stopping, too late to ask JupyterLab")
        )
        notebook = archive.read(saved.path) if saved.path is not None else None
        if notebook is not None:
            frontend.fill_execution_counts(notebook)
            self.archive(notebook, {"outputs": "saved by JupyterLab at the end"})
            print(f"archived: {rel}")
            return
        reason = saved.reason or "the notebook JupyterLab saved could not be read"
        copy = _last_saved_copy(self.run_id, reason)
        self.archive(copy, {"outputs": f"incomplete: {reason}"})
        print(f"not saved: {reason}")
        kept = "the outputs JupyterLab saved last" if copy else "no outputs"
        print(f"archived with {kept} (incomplete): {rel}")

    def _save_notebook(self) -> frontend.Saved:
        """Show a line no earlier output holds, then wait until JupyterLab saved it."""
        state = self.record.state.value if self.record else "ended"
        marker = (
            f"run {self.run_id} {state}: saving the notebook for its archive "
            f"[{secrets.token_hex(4)}]"
        )
        print(marker)
        return frontend.save_notebook(marker, SAVE_TIMEOUT.seconds() or DEFAULT_SAVE_TIMEOUT)

    def _release(self) -> None:
        if self._keep_alive is not None:
            self._keep_alive.stop()
            self._keep_alive = None
        if self.lock_id is not None:
            lock_id, self.lock_id = self.lock_id, None
            self.journal.release(lock_id)

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
        wb = self.wb
        top = banner.headline(wb.environment, wb.direction, wb.dry_run)
        return "\n".join([top, *(f"{k:>11}: {v}" for k, v in self._facts())])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:right;padding-right:1em'>{html.escape(k)}"
            f"</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._facts()
        )
        wb = self.wb
        return banner.html_banner(wb.environment, wb.direction, wb.dry_run, rows)


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
        from workbook.runtime import views

        parts = [self._headline()]
        if self.wb.dry_run:
            parts.append(self.wb.plan.to_frame().to_string(index=False))
        else:
            found = views.changes(self.before, self.after, self.wb.renames)
            parts.append(views.changes_text(found))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        from workbook.runtime import views

        body = (
            self.wb.plan._repr_html_()
            if self.wb.dry_run
            else views.changes_html(views.changes(self.before, self.after, self.wb.renames))
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
    direction = magics.next_direction(direction)  # `%workbook down` wins over the parameters
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
    if not is_appwrite_id(run_id):
        raise WorkbookError(
            f"run_id {run_id!r} is not a valid id", "let Workbook choose it (leave run_id empty)"
        )
    if _current is not None and not _current.finished:
        _current.stop("superseded: the connect cell ran again before done()")
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
    wb.parameters = parameters_that_ran(
        migration, environment=env.name, direction=direction, dry_run=bool(dry_run), run_id=run_id
    )
    wb._begin(catalog)
    magics.direction_used()
    _current = wb
    atexit.unregister(_close_on_exit)
    atexit.register(_close_on_exit)
    _show(wb.banner())
    _show(wb._schema_before)
    return wb


def parameters_that_ran(migration: Migration | None, **given: Any) -> dict[str, Any]:
    """The parameters a run used, in the parameters cell's order: what `connect` was given
    (``direction`` after a `%workbook down`) and, in a kernel, the value each other name of
    the cell holds now (the defaults, or what papermill injected over them)."""
    names = [*(migration.parameters if migration else ()), *given]
    namespace: dict[str, Any] = {}
    with contextlib.suppress(ImportError):
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else {}
    ran: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        if is_secret_name(name):  # the archive's header is no place for one, even redacted
            continue
        if name in given:
            ran[name] = given[name]
        elif name in namespace:
            value = namespace[name]
            plain = value is None or isinstance(value, str | int | float | bool)
            ran[name] = value if plain else repr(value)
    return ran


def _dry_run_state_file() -> Path | None:
    name = DRY_RUN_STATE.get()
    return Path(name) if name else None


def _close_on_exit() -> None:
    """A kernel shut down mid-migration (notebook closed, kernel restarted) leaves no run
    ``running`` and no lock held: the run is recorded as failed. Under plain papermill,
    the archive is written again now that papermill has saved every cell's output.
    Under ``workbook up`` the runner settles its runs itself, with the exact reason."""
    wb = _current
    if wb is None or wb.under_runner:
        return
    # at exit the target may be gone already; then the lease expires and a later run settles
    with contextlib.suppress(Exception):
        if not wb.finished:
            wb.stop("the kernel stopped before wb.done()", save=False)
        elif not wb.dry_run and papermill_output.output_path() is not None:
            wb.archive()


def _last_saved_copy(run_id: str, reason: str) -> dict[str, Any] | None:
    """The notebook as JupyterLab last saved it (autosave), headed by a note saying its
    outputs may stop short of the run's end; None when there is no readable copy."""
    path = frontend.notebook_path()
    notebook = archive.read(path) if path else None
    if path is None or notebook is None:
        return None
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    note = (
        f"**Outputs incomplete.** When run {run_id} ended, {reason}. This is the copy "
        f"of the notebook last saved, at {when}: outputs shown after that are missing."
    )
    cell = {"cell_type": "markdown", "id": "workbook-outputs-incomplete", "metadata": {}}
    notebook["cells"].insert(0, {**cell, "source": note})
    return notebook


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
