"""The verbs of Workbook as plain functions (as Alembic's ``command.py``).

The CLI only parses arguments and renders what these return, so notebooks, tests and the
terminal share one API. Each verb validates everything it can before touching a target.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appwrite.exception import AppwriteException

from workbook.command import restore as restores
from workbook.command import restore_links, targets
from workbook.command.runner import RunResult, execute, kernel_pool
from workbook.command.scaffold import create  # noqa: F401 - re-exported: commands.create
from workbook.core import backup as backups
from workbook.core import cloud_archive
from workbook.core.catalog import Migration, find, load_catalog
from workbook.core.client import Target, connect_target, one_line
from workbook.core.config import Environment, Workspace
from workbook.core.history import ArchivedRun, archived_runs
from workbook.core.ids import ID_RULE, is_appwrite_id
from workbook.core.journal import Journal
from workbook.core.ledger import Ledger, LockRow, VersionState
from workbook.core.local_target import serving_local
from workbook.core.runs import new_run_id
from workbook.core.status import (
    StatusRow,
    applied_versions,
    check_down,
    check_modified,
    check_up,
    last_applied,
    pending,
    status_rows,
)
from workbook.errors import WorkbookError
from workbook.secrets import is_secret_name

RESERVED = {"environment", "direction", "dry_run", "run_id"}
# How a caller shows a backup the runner takes before a sequence (``backup = "all"``): a
# context manager per backup giving the ``on_progress(table, rows)`` callback, or None.
BackupView = Callable[[], contextlib.AbstractContextManager[Callable[[str, int], None] | None]]


@dataclass
class Opened:
    """An environment, connected, with its catalog and ledger read once."""

    workspace: Workspace
    environment: Environment
    target: Target
    journal: Journal
    catalog: list[Migration]
    states: dict[str, VersionState]

    @property
    def ledger(self) -> Ledger:
        return self.journal.ledger


@contextlib.contextmanager
def opened(
    workspace: Workspace,
    env_name: str | None,
    catalog: list[Migration] | None = None,
    *,
    adopted: bool = True,
) -> Iterator[Opened]:
    """Connect, settle a dead lock holder, and (for verbs that run migrations or report
    on them) refuse a database whose data has no ledger."""
    env = workspace.environment(env_name)
    catalog = catalog if catalog is not None else load_catalog(workspace.migrations)
    with serving_local(workspace) if env.is_local else contextlib.nullcontext():
        target = connect_target(workspace, env)
        journal = Journal(target, workspace)
        if adopted:
            journal.check_adopted()
        journal.settle_abandoned()
        yield Opened(workspace, env, target, journal, catalog, journal.states())


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """``-p KEY=VALUE`` pairs, typed as papermill's CLI types them."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not re.match(r"^[A-Za-z_]\w*$", name):
            raise WorkbookError(f"-p {pair!r} is not KEY=VALUE", "write it like -p batch_size=500")
        if name in RESERVED:
            raise WorkbookError(
                f"-p {name} is set by Workbook itself",
                "use --env, --dry-run or the command (up/down) instead",
            )
        if is_secret_name(name):
            raise WorkbookError(
                f"-p {name} looks like a secret; parameters are written into the archive",
                "read secrets from environment variables inside the notebook",
            )
        out[name] = _typed(raw.strip())
    return out


def _typed(raw: str) -> Any:
    if raw in ("True", "true"):
        return True
    if raw in ("False", "false"):
        return False
    if raw in ("None", "none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def parameters_for(migration: Migration, given: dict[str, Any]) -> dict[str, Any]:
    """The ``-p`` values this migration declares, checked against its defaults' types."""
    out = {}
    for name, value in given.items():
        if name not in migration.parameters:
            continue
        default = _literal(migration.parameters[name])
        if default is not None and value is not None and not _same_kind(default, value):
            raise WorkbookError(
                f"-p {name}={value!r} does not fit migration {migration.version}, whose "
                f"default is {migration.parameters[name]}",
                f"pass a {type(default).__name__}",
            )
        out[name] = float(value) if isinstance(default, float) and isinstance(value, int) else value
    return out


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def _check_parameters(catalog: list[Migration], given: dict[str, Any]) -> None:
    """Every ``-p`` is checked before any target is reached: known to some migration, and
    of the type of each migration's default that declares it."""
    _check_parameters_known(catalog, given)
    for m in catalog:
        parameters_for(m, given)


def _check_parameters_known(catalog: list[Migration], given: dict[str, Any]) -> None:
    known = {p for m in catalog for p in m.parameters}
    unknown = sorted(set(given) - known)
    if unknown:
        raise WorkbookError(
            f"no migration takes the parameter {', '.join(unknown)}",
            "check the name against the migrations' parameters cells",
        )


def up(
    workspace: Workspace,
    envs: list[str | None],
    *,
    migration: str | None = None,
    dry_run: bool = False,
    parameters: dict[str, Any] | None = None,
    backup: bool = True,
    on_result: Callable[[RunResult], None] | None = None,
    on_start: Callable[[Environment, list[Migration]], None] | None = None,
    to: str | None = None,
    steps: int | None = None,
    backup_view: BackupView | None = None,
) -> list[RunResult]:
    """Apply pending migrations (or one, or those up to ``to``, or the next ``steps``) to
    each environment in turn; stop at a failure."""
    given = parameters or {}
    catalog = load_catalog(workspace.migrations)
    _check_parameters(catalog, given)
    selected = find(catalog, migration) if migration else None
    for name in envs:  # every environment name is checked before anything runs
        workspace.environment(name)
    results: list[RunResult] = []
    for name in envs or [None]:
        with opened(workspace, name, catalog) as o:
            check_modified(o.catalog, o.states, o.environment.name)
            if selected:
                check_up(o.catalog, o.states, selected, o.environment.name)
                todo = [selected]
            else:
                todo = targets.select_up(o.catalog, pending(o.catalog, o.states), to, steps)
            if on_start:
                on_start(o.environment, todo)
            for result in _run_sequence(o, todo, "up", dry_run, given, backup, backup_view):
                results.append(result)
                if on_result:
                    on_result(result)
                if not result.ok:
                    return results
    return results


def down(
    workspace: Workspace,
    env: str | None,
    *,
    migration: str | None = None,
    dry_run: bool = False,
    parameters: dict[str, Any] | None = None,
    backup: bool = True,
    on_start: Callable[[Environment, list[Migration]], None] | None = None,
    backup_view: BackupView | None = None,
) -> RunResult:
    """Roll back the latest applied migration, or the named one if nothing depends on it."""
    given = parameters or {}
    catalog = load_catalog(workspace.migrations)
    _check_parameters(catalog, given)
    with opened(workspace, env, catalog) as o:
        target = (
            find(o.catalog, migration)
            if migration
            else last_applied(o.catalog, o.states, o.environment.name)
        )
        check_down(o.catalog, o.states, target, o.environment.name)
        if on_start:
            on_start(o.environment, [target])
        sequence = _run_sequence(o, [target], "down", dry_run, given, backup, backup_view)
        return next(iter(sequence))


def _run_sequence(
    o: Opened,
    todo: list[Migration],
    direction: str,
    dry_run: bool,
    given: dict[str, Any],
    backup: bool,
    backup_view: BackupView | None = None,
) -> Iterator[RunResult]:
    """lock → backup → run each → release, the lock held across the whole sequence."""
    if not todo:
        return
    for m in todo:  # every parameter is checked before the first run starts
        parameters_for(m, given)
    if dry_run:  # each plan starts from what the earlier ones would have changed
        with tempfile.TemporaryDirectory(prefix="workbook-dry-run-") as scratch:
            state = Path(scratch) / "state.json"
            with kernel_pool(o.journal, len(todo), dry_run_state=state) as pool:
                for m in todo:
                    yield execute(
                        o.journal,
                        m,
                        direction=direction,
                        dry_run=True,
                        parameters=parameters_for(m, given),
                        dry_run_state=state,
                        pool=pool,
                    )
        return
    lock_id = new_run_id("lock", direction)
    o.journal.acquire(lock_id)
    try:
        with o.journal.keep_alive(lock_id), kernel_pool(o.journal, len(todo), lock_id) as pool:
            for m in todo:
                if m is todo[0]:
                    _sequence_backup(o, lock_id, m, backup, backup_view)
                # the sequence's backup, named once (with the first run's result)
                folder = backup_folder(o, lock_id, m) if backup and m is todo[0] else None
                result = execute(
                    o.journal,
                    m,
                    direction=direction,
                    parameters=parameters_for(m, given),
                    lock_id=lock_id,
                    pool=pool,
                    backup=folder,
                )
                yield _with_mirror(o, dataclasses.replace(result, backup=folder))
                if not result.ok:
                    return
    finally:
        _release(o, lock_id)


def backup_folder(o: Opened, lock_id: str, migration: Migration) -> Path:
    """``history/<env>/backups/<lock id>-before-<version>``: what ``restore`` takes."""
    root = backups.backups_dir(o.workspace, o.environment.name)
    cloud = backups.cloud_archive_of(root, lock_id) if o.environment.backup == "cloud" else None
    return cloud or backups.sequence_folder(root, lock_id, migration.version)


def _sequence_backup(
    o: Opened, lock_id: str, first: Migration, backup: bool, view: BackupView | None = None
) -> None:
    """One backup per sequence, not one per migration. ``--no-backup`` leaves its mark
    (the kernels then write without backing up); ``backup = "all"`` exports the whole
    database once, now; ``touched`` (the default) makes the sequence's folder, named after
    its first migration, and leaves the rest to the kernels, which back each table up there
    just before the first write that could lose its data — why, and how ``none`` refuses,
    is in ``workbook/runtime/backups.py``."""
    if not backup:
        backups.decline(backups.backups_dir(o.workspace, o.environment.name), lock_id)
    elif o.environment.backup == "all":
        folder = backup_folder(o, lock_id, first)
        with (view or contextlib.nullcontext)() as on_progress:
            facts = {"run": lock_id, "before": first.version}
            backups.export_database(o.target, folder, on_progress=on_progress, **facts)
    elif o.environment.backup == "cloud":  # Appwrite Cloud archives the database, waited for
        archive_id = cloud_archive.take_archive(o.target)
        root = backups.backups_dir(o.workspace, o.environment.name)
        backups.record_cloud_archive(root, lock_id, archive_id, o.environment.database)
    elif o.environment.backup == "touched":
        folder = backup_folder(o, lock_id, first)
        backups.check_free_space(o.target, folder, None)  # at most every table, before any run
        folder.mkdir(parents=True, exist_ok=True)


def _with_mirror(o: Opened, result: RunResult) -> RunResult:
    """Refresh applied.json; a failure to do so is a warning, never the run's outcome."""
    try:
        o.journal.mirror()
    except (AppwriteException, OSError, WorkbookError) as exc:
        note = f"history/{o.environment.name}/applied.json was not refreshed: {one_line(exc)}"
        return dataclasses.replace(result, warnings=(*result.warnings, note))
    return result


def _release(o: Opened, lock_id: str) -> None:
    """Release the sequence's lock. If the target does not answer, the lease expires and
    the next run settles it: no run is left locked for ever."""
    with contextlib.suppress(AppwriteException):
        o.journal.release(lock_id)


def status(workspace: Workspace, env: str | None) -> tuple[Environment, list[StatusRow]]:
    with opened(workspace, env) as o:
        if o.ledger.exists():
            o.journal.mirror()
        return o.environment, status_rows(o.catalog, o.states)


def restore(
    workspace: Workspace,
    env: str | None,
    source: Path,
    only: list[str] | None = None,
    *,
    mode: str = "merge",
    into_database: str | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[restores.TableRestore]:
    """Undo what happened to backed-up tables since the backup (see ``restore_table``).

    ``merge`` upserts the backed-up rows (rows created since stay); ``replace`` also deletes
    the rows the backup does not have. ``into_database`` restores beside the original (the
    database is created if missing), for inspection. The ledger is not a table a backup
    restores. The backup is verified whole (manifest, checksums, rows) before the target is
    even reached, and every table is read back and compared with it afterwards.
    """
    if mode not in restores.MODES:
        raise WorkbookError(f"--mode {mode!r} is not one of merge, replace", "merge or replace")
    if into_database is not None and not is_appwrite_id(into_database):
        raise WorkbookError(f"--into-database {into_database!r} is not an Appwrite id", ID_RULE)
    backup = restores.open_backup(source, only)
    environment = workspace.environment(env)
    if into_database is None:
        restores.check_database(backup, environment.database, environment.name)
    with opened(workspace, env, catalog=[], adopted=False) as o:
        lock_id = new_run_id("restore", "up")
        o.journal.acquire(lock_id)
        try:
            restore_links.check_links(o.target, backup, into_database)  # before any write
            if into_database is not None:
                restores.ensure_database(o.target, into_database)
            done = [
                restores.restore_table(
                    o.target, t, database=into_database, mode=mode, on_progress=on_progress
                )
                for t in backup.tables
            ]
            restored = {t.id for t in backup.tables}
            for table, result in zip(backup.tables, done, strict=True):  # relationships last
                links = restore_links.restore_links(o.target, table, restored, into_database)
                result.actions[-1:-1] = links
            return done
        finally:
            o.journal.release(lock_id)


def stamp(workspace: Workspace, env: str | None, version: str) -> list[Migration]:
    """Record every migration up to ``version`` that is not applied as ``stamped``: applied
    without running, because the environment already has what they do (adoption)."""
    catalog = load_catalog(workspace.migrations)
    last = find(catalog, version)
    with opened(workspace, env, catalog, adopted=False) as o:
        latest = max(applied_versions(o.states), default=0)
        if last.number < latest:  # stamping never moves an environment backwards
            raise WorkbookError(
                f"migration {last.version} is below {latest:03d}, the latest applied on "
                f"'{o.environment.name}'; stamp only records versions as applied",
                f"stamp {latest:03d} or a later version; to undo migrations, "
                f"`workbook down --to {last.version}`",
            )
        todo = [m for m in pending(o.catalog, o.states) if m.number <= last.number]
        running = [
            v.version
            for v in o.states.values()
            if v.state in ("running", "failed", "awaiting") and int(v.version) <= last.number
        ]
        if running:
            raise WorkbookError(
                f"migration {', '.join(running)} has an unfinished run on "
                f"'{o.environment.name}'; stamping would hide it",
                "see `workbook status`; roll it back or finish it first",
            )
        if not todo:
            return []
        lock_id = new_run_id("stamp", "up")
        o.journal.acquire(lock_id)
        try:
            for m in todo:
                o.journal.stamp(lock_id, m)
            o.journal.mirror()
        finally:
            o.journal.release(lock_id)
        return todo


def unlock(workspace: Workspace, env: str | None) -> LockRow | None:
    """Break a lock left by a dead run (and settle its runs as failed); returns who held it."""
    with opened(workspace, env, catalog=[], adopted=False) as o:
        return o.journal.unlock()


def history(
    workspace: Workspace,
    env: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> list[ArchivedRun]:
    """Archived runs, newest first, read from the archives' own metadata.

    A file under history/ that is no run's archive is skipped, never silently: each is
    reported to ``on_warning`` (the CLI prints them), else raised as a Python warning so a
    notebook shows it.
    """
    runs, problems = archived_runs(workspace, env)
    for problem in problems:
        if on_warning is None:
            warnings.warn(problem, stacklevel=2)
        else:
            on_warning(problem)
    return runs
