"""One run of one migration: execute → archive → settle the ledger.

Reads like a table of contents, as papermill's ``execute.py`` does: each step is a call into
the module that owns it. The lock and the backup wrap a *sequence* of runs and live in
``commands``; everything here happens once per notebook.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException

from workbook.core.catalog import Migration
from workbook.core.client import Target
from workbook.core.config import Workspace
from workbook.core.ledger import Ledger, operator
from workbook.core.runs import new_run_id
from workbook.secrets import redact
from workbook.settings import BATCH, DRY_RUN_STATE, RUN_LOCK, WORKSPACE, scoped_environ

KERNEL = "python3"
# The kernel's own log lines (transport warnings, shutdown notices) are not the run's
# output: the run's output is in the archived notebook.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@dataclass(frozen=True)
class RunResult:
    migration: Migration
    environment: str
    direction: str
    dry_run: bool
    run_id: str
    status: str  # applied | failed | dry-run
    archive: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def archive_path(
    workspace: Workspace, environment: str, run_id: str, migration: Migration, dry_run: bool
) -> Path:
    """``history/<env>/<run id>_<slug>[.dry-run].ipynb``: the run id starts with its UTC time,
    so archives sort by when they ran."""
    suffix = ".dry-run" if dry_run else ""
    folder = workspace.history_dir(environment)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}_{migration.slug}{suffix}.ipynb"


def execute(
    workspace: Workspace,
    target: Target,
    migration: Migration,
    *,
    direction: str,
    dry_run: bool = False,
    parameters: dict[str, Any] | None = None,
    lock_id: str | None = None,
    dry_run_state: Path | None = None,
) -> RunResult:
    """Run one migration notebook through papermill and record what happened."""
    import papermill  # heavy: imported by the commands that run notebooks, not by all
    from papermill.exceptions import PapermillExecutionError

    env = target.environment.name
    secret_vars = (target.environment.key_env,)
    run_id = new_run_id(migration.version, direction)
    archive = archive_path(workspace, env, run_id, migration, dry_run)
    started = datetime.now(UTC)
    clock = time.monotonic()
    error: str | None = None
    params = {
        **(parameters or {}),
        "environment": env,
        "direction": direction,
        "dry_run": dry_run,
        "run_id": run_id,
    }
    with _kernel_environment(workspace, lock_id, dry_run_state):
        try:
            papermill.execute_notebook(
                str(migration.path),
                str(archive),
                parameters=params,
                kernel_name=KERNEL,
                cwd=str(workspace.root),
                progress_bar=False,
                log_output=False,
                extra_arguments=KERNEL_ARGUMENTS,
            )
        except PapermillExecutionError as exc:
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # a kernel that died or never started
            error = f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - clock
    status = "failed" if error else ("dry-run" if dry_run else "applied")
    relative = archive.relative_to(workspace.root).as_posix()
    if not dry_run:
        ledger = Ledger(target.tables, target.environment.database, env)
        try:
            status, error = _settle_ledger(ledger, run_id, relative, error, status, secret_vars)
        except AppwriteException as exc:  # the archive is still written, and says so
            status = "failed"
            error = (error + "; " if error else "") + f"the ledger could not be updated: {exc}"
    _annotate(
        archive,
        {
            "run_id": run_id,
            "environment": env,
            "endpoint": target.endpoint,
            "project": target.environment.project,
            "database": target.environment.database,
            "migration": migration.name,
            "version": migration.version,
            "description": migration.description,
            "checksum": migration.checksum,
            "direction": direction,
            "dry_run": dry_run,
            "status": status,
            "operator": operator(),
            "started_at": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "error": error,
            "git_commit": _git_commit(workspace),
            "parameters": dict(params),
        },
        secret_vars,
    )
    return RunResult(
        migration,
        env,
        direction,
        dry_run,
        run_id,
        status,
        archive,
        seconds,
        redact(error, secret_vars) if error else None,
    )


def _settle_ledger(
    ledger: Ledger,
    run_id: str,
    archive: str,
    error: str | None,
    status: str,
    secret_vars: tuple[str, ...],
) -> tuple[str, str | None]:
    """Add the archive path; a run the kernel left ``running`` (it died, or the notebook
    never reached ``wb.done()``) becomes ``failed``. Returns the final status and error."""
    record = ledger.get(run_id)
    if record is None:
        if error is None:  # it ran to the end without ever opening its run
            return "failed", "the notebook never called workbook.connect(…) with its version"
        return "failed", error
    if record.state == "running":
        reason = error or "the notebook ended without calling wb.done()"
        ledger.finish(run_id, "failed", error=redact(reason, secret_vars), archive=archive)
        return "failed", reason
    ledger.set_archive(run_id, archive)
    if record.state == "failed":
        return "failed", error or record.error
    return status, error


def _kernel_environment(
    workspace: Workspace, lock_id: str | None, dry_run_state: Path | None
) -> contextlib.AbstractContextManager[None]:
    """Variables the kernel inherits: batch mode, the workspace, the runner's lock, and
    where a dry run finds what the earlier ones would change."""
    return scoped_environ(
        {
            BATCH.name: "1",
            WORKSPACE.name: str(workspace.root),
            RUN_LOCK.name: lock_id,
            DRY_RUN_STATE.name: str(dry_run_state) if dry_run_state else None,
        }
    )


def _annotate(archive: Path, facts: dict[str, Any], secret_vars: tuple[str, ...]) -> None:
    """Provenance in the output (as papermill does), and no secret anywhere in the file."""
    import nbformat

    if not archive.exists():
        nb = nbformat.v4.new_notebook()
        nb.cells.append(
            nbformat.v4.new_markdown_cell(
                f"# Run {facts['run_id']} did not start\n\n{facts.get('error') or ''}"
            )
        )
    else:
        nb = nbformat.read(archive, as_version=4)
    nb.metadata["workbook"] = facts
    text = redact(nbformat.writes(nb), secret_vars)
    tmp = archive.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(archive)


def _git_commit(workspace: Workspace) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=workspace.root,
            timeout=5,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
