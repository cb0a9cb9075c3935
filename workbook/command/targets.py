"""Targets, as Flyway's ``-target`` and Alembic's ``downgrade -2``: ``up --to V``,
``down --to V`` and ``--steps N``.

``down --to 001`` rolls back everything applied after 001, newest first, in one command
and under one lock; it stops before the first irreversible migration and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbook.command.runner import RunResult
from workbook.core.catalog import Migration, find, load_catalog
from workbook.core.config import Environment, Workspace
from workbook.core.ledger import VersionState
from workbook.errors import WorkbookError

if TYPE_CHECKING:  # commands imports this module
    from workbook.command.commands import BackupView

ROLLED_BACK_STATES = ("applied", "failed")  # a failed run may have half-applied its changes


def check_target(migration: str | None, to: str | None, steps: int | None) -> None:
    """One way of naming what to run: a migration, a target, or a number of steps."""
    given = [name for name, v in (("--migration", migration), ("--to", to)) if v]
    if steps is not None:
        given.append("--steps")
        if steps < 1:
            raise WorkbookError(f"--steps {steps} is not a number of migrations", "use 1 or more")
    if len(given) > 1:
        raise WorkbookError(
            f"{' and '.join(given)} name the migrations twice", "give only one of them"
        )


def _number(catalog: list[Migration], to: str) -> int:
    """``--to``'s version number; ``0`` (or ``000``) is before the first migration."""
    if to.strip("0") == "":
        return 0
    return find(catalog, to).number


def select_up(
    catalog: list[Migration], todo: list[Migration], to: str | None, steps: int | None
) -> list[Migration]:
    """The pending migrations up to and including ``to``, or the first ``steps`` of them."""
    if to is not None:
        limit = _number(catalog, to)
        todo = [m for m in todo if m.number <= limit]
    if steps is not None:
        todo = todo[:steps]
    return todo


def select_down(
    catalog: list[Migration],
    states: dict[str, VersionState],
    env: str,
    to: str | None,
    steps: int | None,
) -> tuple[list[Migration], Migration | None]:
    """What to roll back, newest first, and the irreversible migration that stops it (if
    any): every applied (or failed) migration after ``to``, or the latest ``steps``."""
    done = [m for m in catalog if (states.get(str(m.number)) or _NONE).state in ROLLED_BACK_STATES]
    done.reverse()
    if to is not None:
        limit = _number(catalog, to)
        done = [m for m in done if m.number > limit]
    if steps is not None:
        done = done[:steps]
    if not done:
        after = f" after {to}" if to is not None else ""
        raise WorkbookError(
            f"nothing is applied on '{env}'{after}; there is nothing to roll back",
            "see `workbook status`",
        )
    for i, m in enumerate(done):
        if not m.reversible:
            return done[:i], m
    return done, None


def irreversible(blocked: Migration, rolled_back: list[Migration]) -> WorkbookError:
    before = (
        f"{', '.join(m.version for m in rolled_back)} rolled back; "
        if rolled_back
        else "nothing was rolled back; "
    )
    return WorkbookError(
        f"stopped at migration {blocked.version}: it is irreversible (it has no %%down "
        f"cells); {before}{blocked.version} and older are still applied",
        "restore from the backup under history/<env>/backups, or write a new migration",
    )


class _None:
    state = "pending"


_NONE = _None()


def down(
    workspace: Workspace,
    env: str | None,
    *,
    to: str | None = None,
    steps: int | None = None,
    dry_run: bool = False,
    parameters: dict[str, Any] | None = None,
    backup: bool = True,
    on_result: Callable[[RunResult], None] | None = None,
    on_start: Callable[[Environment, list[Migration]], None] | None = None,
    backup_view: BackupView | None = None,
) -> list[RunResult]:
    """Roll back everything after ``to`` (or the latest ``steps``), newest first, under one
    lock; stop at a failure, or before an irreversible migration (an error naming it)."""
    from workbook.command import commands

    given = parameters or {}
    catalog = load_catalog(workspace.migrations)
    commands._check_parameters(catalog, given)
    results: list[RunResult] = []
    with commands.opened(workspace, env, catalog) as o:
        todo, blocked = select_down(o.catalog, o.states, o.environment.name, to, steps)
        if blocked and not todo:
            raise irreversible(blocked, [])
        if on_start:
            on_start(o.environment, todo)
        sequence = commands._run_sequence(o, todo, "down", dry_run, given, backup, backup_view)
        for result in sequence:
            results.append(result)
            if on_result:
                on_result(result)
            if not result.ok:
                return results
    if blocked:
        raise irreversible(blocked, [r.migration for r in results])
    return results
