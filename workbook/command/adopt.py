"""Adopting an existing project: its baseline migration, and repairs of the ledger.

``stamp`` (in ``commands``) records versions as applied without running them; ``resolve``
repairs one failed entry by appending a row, so the ledger's history is never edited.
"""

from __future__ import annotations

from pathlib import Path

from workbook.command import commands, generate
from workbook.command.commands import opened
from workbook.command.schema_cmd import live_schema
from workbook.core.catalog import Migration, load_catalog
from workbook.core.config import Workspace
from workbook.core.ledger import RunRecord
from workbook.core.runs import new_run_id
from workbook.errors import WorkbookError


def create_baseline(
    workspace: Workspace, env: str | None, name: str, description: str | None = None
) -> Path:
    """A first migration whose up cells create the environment's live schema from nothing."""
    catalog = load_catalog(workspace.migrations) if workspace.migrations.is_dir() else []
    if catalog:
        raise WorkbookError(
            f"a baseline is the first migration, and {len(catalog)} exist already "
            f"(the last is {catalog[-1].name})",
            "adopt in a workspace without migrations, or write the next one with --name",
        )
    up, down = generate.baseline_cells(live_schema(workspace, env))
    title = description or "Baseline: the schema when the project adopted Workbook"
    return commands.create(workspace, name, title, cells={"up": up, "down": down})


def resolve(workspace: Workspace, env: str | None, version: str, *, applied: bool) -> RunRecord:
    """Mark ``version`` applied or rolled back on ``env`` by appending one ledger row."""
    catalog = load_catalog(workspace.migrations)
    wanted = "applied" if applied else "pending"
    with opened(workspace, env, catalog, adopted=False) as o:
        key = str(int(version)) if version.isdigit() else version
        state = o.states.get(key)
        migration: Migration | None = next(
            (m for m in catalog if version in (m.version, m.name) or str(m.number) == key), None
        )
        if migration is None and state is None:
            raise WorkbookError(
                f"no migration {version} in migrations/ nor in the ledger of "
                f"'{o.environment.name}'",
                "see `workbook status` for the versions there are",
            )
        if state is not None and state.state == "running":
            raise WorkbookError(
                f"migration {version} is running on '{o.environment.name}'",
                "wait for it, or `workbook unlock` if its process is gone",
            )
        current = state.state if state is not None else "pending"
        if current == wanted:
            raise WorkbookError(
                f"migration {version} is {current} on '{o.environment.name}' already; "
                "nothing to resolve",
                "resolve repairs a failed entry: see `workbook status`",
            )
        if applied and migration is None:
            raise WorkbookError(
                f"migration {version} has no file in migrations/; it cannot be marked applied",
                "restore its notebook first, or resolve it --rolled-back",
            )
        basis: Migration | RunRecord | None = migration or (state.last if state else None)
        assert basis is not None
        number = migration.version if migration else (state.version if state else version)
        lock_id = new_run_id("resolve", "up" if applied else "down")
        o.journal.acquire(lock_id)
        try:
            record = o.journal.resolve(lock_id, number, basis, applied=applied)
            o.journal.mirror()
        finally:
            o.journal.release(lock_id)
        return record
