"""One run of one migration: execute → settle → archive.

Reads like a table of contents, as papermill's ``execute.py`` does: each step is a call into
the module that owns it. The kernel opens and finishes its own run through the journal;
the runner adds what only it knows (the exit of papermill, a timeout, how long it took)
and makes the archive say exactly what the ledger says. The lock and the backup wrap a
*sequence* of runs and live in ``commands``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException

from workbook.command import kernels
from workbook.command.cell_error import describe_cell_error
from workbook.command.plan_view import read_plan
from workbook.core import archive
from workbook.core.catalog import Migration
from workbook.core.client import one_line
from workbook.core.journal import Journal
from workbook.core.runs import new_run_id
from workbook.errors import WorkbookError
from workbook.secrets import redact
from workbook.settings import BATCH, DRY_RUN_STATE, RUN_LOCK, WORKSPACE, scoped_environ

KERNEL = "python3"
# The kernel's own log lines (transport warnings, shutdown notices) are not the run's
# output: the run's output is in the archived notebook.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
UNSETTLED = "unsettled"  # the kernel finished, but the ledger could not be read after


class Interrupted(WorkbookError):
    """Ctrl-C during a run: the run is settled as failed and the sequence stops."""

    exit_code = 130


@dataclass(frozen=True)
class RunResult:
    migration: Migration
    environment: str
    direction: str
    dry_run: bool
    run_id: str
    status: str  # applied | failed | awaiting | dry-run | unsettled
    archive: Path
    seconds: float
    error: str | None = None
    warnings: tuple[str, ...] = field(default=())
    backup: Path | None = None  # the folder backed up before this run, for `restore`

    @property
    def ok(self) -> bool:
        return self.status in ("applied", "dry-run")


@dataclass(frozen=True)
class _Run:
    """One execution's facts, as the settling steps below need them."""

    journal: Journal
    migration: Migration
    run_id: str
    path: Path
    direction: str
    dry_run: bool
    extra: dict[str, Any]

    def result(self, status: str, error: str | None, warnings: tuple[str, ...] = ()) -> RunResult:
        shown = redact(error, self.journal.secret_vars) if error else None
        return RunResult(
            self.migration,
            self.journal.environment.name,
            self.direction,
            self.dry_run,
            self.run_id,
            status,
            self.path,
            float(self.extra["seconds"]),
            shown,
            warnings,
        )

    def archive_alone(self, status: str, error: str | None) -> RunResult:
        """An archive with no ledger row to agree with (a dry run, a run that never
        opened, one whose outcome could not be read back): the runner's facts."""
        j, m, env = self.journal, self.migration, self.journal.environment
        facts = {
            "run_id": self.run_id,
            "environment": env.name,
            "endpoint": j.target.endpoint,
            "project": env.project,
            "database": env.database,
            "migration": m.name,
            "version": m.version,
            "description": m.description,
            "checksum": m.checksum,
            "direction": self.direction,
            "dry_run": self.dry_run,
            "status": status,
            "operator": j.operator,
            "error": error,
            "git_commit": archive.git_commit(j.workspace),
            **self.extra,
        }
        archive.write(self.path, facts, j.secret_vars)
        return self.result(status, error)


def execute(
    journal: Journal,
    migration: Migration,
    *,
    direction: str,
    dry_run: bool = False,
    parameters: dict[str, Any] | None = None,
    lock_id: str | None = None,
    dry_run_state: Path | None = None,
    pool: kernels.KernelPool | None = None,
    backup: Path | None = None,
) -> RunResult:
    """Run one migration notebook through papermill and record what happened; on the
    pool's pre-warmed kernel when a sequence has one."""
    workspace, env = journal.workspace, journal.environment
    run_id = new_run_id(migration.version, direction)
    path = archive.archive_path(workspace, env.name, run_id, migration.name, dry_run)
    params = {
        **(parameters or {}),
        "environment": env.name,
        "direction": direction,
        "dry_run": dry_run,
        "run_id": run_id,
    }
    timeout = migration.cell_timeout or env.bounds().cell
    started, clock = datetime.now(UTC), time.monotonic()
    interrupted = False
    variables = _kernel_variables(journal, lock_id, dry_run_state)
    with scoped_environ(variables):
        try:
            with kernels.kernel_for_run(
                pool, variables, workspace.root, KERNEL, KERNEL_ARGUMENTS
            ) as km:
                error = _papermill(migration, path, params, workspace.root, timeout, km)
        except KeyboardInterrupt:
            error, interrupted = "interrupted (Ctrl-C) while the notebook ran", True
    extra = {
        "seconds": round(time.monotonic() - clock, 3),
        "parameters": params,
        "started_at": started.isoformat(timespec="seconds"),
    }
    if dry_run and dry_run_state:  # the plan the kernel left, kept in the archive
        extra["plan"] = read_plan(dry_run_state, run_id)
    if backup is not None and backup.exists():  # for reviewers (the HTML header), `restore`
        extra["backup"] = archive.relative(workspace, backup)
    run = _Run(journal, migration, run_id, path, direction, dry_run, extra)
    if dry_run:
        result = run.archive_alone("failed" if error else "dry-run", error)
    else:
        result = _settle(run, error)
    if interrupted:
        raise Interrupted(
            f"interrupted: {migration.version} {direction} recorded as "
            f"{result.status}; its notebook: {relative_or_path(path)}",
            "run `workbook up` again to continue",
        )
    return result


_cell_hooks: list[Any] = []


@contextlib.contextmanager
def on_cell_executed(hook: Any) -> Any:
    """Call ``hook(cell=, cell_index=, execute_reply=)`` in this process after each cell the
    runs inside the block execute (nbclient's hook): how a replay sees each cell's effect."""
    _cell_hooks.append(hook)
    try:
        yield
    finally:
        _cell_hooks.remove(hook)


def _papermill(
    migration: Migration,
    path: Path,
    params: dict[str, Any],
    cwd: Path,
    timeout: float,
    km: Any | None = None,
) -> str | None:
    """Execute the notebook into ``path``; the error that stopped it, or None."""
    import papermill  # heavy: imported by the commands that run notebooks, not by all
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(migration.path),
            str(path),
            parameters=params,
            kernel_name=KERNEL,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            extra_arguments=KERNEL_ARGUMENTS,
            execution_timeout=timeout,
            **kernels.engine_for(km),
            **({"on_cell_executed": _cell_hooks[-1]} if _cell_hooks else {}),
        )
    except PapermillExecutionError as exc:
        if exc.ename == "KeyboardInterrupt":  # nbclient interrupts a cell past its timeout
            return _timed_out(timeout, _first_line(exc.source))
        cell = exc.exec_count or exc.cell_index
        return describe_cell_error(cell, exc.ename, exc.evalue, exc.traceback)
    except CellTimeoutError as exc:
        return _timed_out(timeout, _cell_preview(str(exc)))
    except Exception as exc:  # a kernel that died or never started
        return f"{type(exc).__name__}: {exc}"
    return None


def _timed_out(timeout: float, cell: str) -> str:
    shown = f" (cell `{cell}`)" if cell else ""
    return (
        f"a cell ran longer than its timeout of {timeout:g}s and was stopped{shown}; "
        "raise cell_timeout for this environment in workbook.toml, or the migration's "
        "metadata workbook.cell_timeout"
    )


def _cell_preview(message: str) -> str:
    """The cell nbclient quotes in its timeout message."""
    lines = message.splitlines()
    marker = "-------------------"
    return _first_line("\n".join(lines[lines.index(marker) + 1 :])) if marker in lines else ""


def _first_line(source: str) -> str:
    """The first line of a cell that says what it does (not its ``%%up`` marker)."""
    for line in source.splitlines():
        line = line.strip()
        if line and line != "..." and not line.startswith("%%"):
            return line[:80]
    return ""


def _settle(run: _Run, error: str | None) -> RunResult:
    """The ledger has the last word; the archive and the result repeat it."""
    try:
        record = run.journal.settle_run(run.run_id, error)
    except (AppwriteException, WorkbookError) as exc:
        reason = (
            f"the notebook finished{' with an error' if error else ''}, but the ledger "
            f"could not be read after: {one_line(exc)}; `workbook status` settles it"
        )
        return run.archive_alone(UNSETTLED, reason)
    if record is None:  # it never opened its run: nothing in the ledger to agree with
        return run.archive_alone(
            "failed", error or "the notebook never called workbook.connect(…) with its version"
        )
    warnings: tuple[str, ...] = ()
    try:
        run.journal.annotate(record, run.extra)
    except OSError as exc:
        warnings = (f"the archive could not be annotated: {exc}",)
    stopped = record.state.value in ("failed", "awaiting")  # awaiting: what it waits for
    return run.result(record.state.value, record.error if stopped else None, warnings)


def _kernel_variables(
    journal: Journal, lock_id: str | None, dry_run_state: Path | None
) -> dict[str, str | None]:
    """Variables the kernel inherits: batch mode, the workspace, the runner's lock, and
    where a dry run finds what the earlier ones would change."""
    return {
        BATCH.name: "1",
        WORKSPACE.name: str(journal.workspace.root),
        RUN_LOCK.name: lock_id,
        DRY_RUN_STATE.name: str(dry_run_state) if dry_run_state else None,
    }


def kernel_pool(
    journal: Journal, count: int, lock_id: str | None = None, dry_run_state: Path | None = None
) -> contextlib.AbstractContextManager[kernels.KernelPool | None]:
    """Pre-warmed kernels for a sequence of ``count`` runs, started with the variables
    that sequence's runs give their kernels (its lock, its dry-run state)."""
    return kernels.prewarmed(
        count,
        _kernel_variables(journal, lock_id, dry_run_state),
        journal.workspace.root,
        KERNEL,
        KERNEL_ARGUMENTS,
    )


def relative_or_path(path: Path) -> str:
    cwd = Path.cwd()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
