"""``workbook status``: each migration's state, whole archive paths, and ``--check`` for CI."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from workbook.command.cli import EnvOption, WorkspaceOption, _guard, _workspace, app, out

if TYPE_CHECKING:  # loaded by the command (start-up: tests/unit/test_startup_imports.py)
    from rich.table import Table

    from workbook.core.status import StatusRow

# States that need a person before CI goes on; `status --check` exits 1 on any of them.
NEEDS_ATTENTION = ("failed", "modified", "running", "awaiting", "missing")
CHECK_EXIT = 1
COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "failed": "red",
    "modified": "magenta",
    "missing": "red",
    "running": "cyan",
    "awaiting": "cyan",
    "stamped": "green",
}


def status_table(title: str, rows: list[StatusRow]) -> Table:
    """The rows as a table; the archive paths follow it whole (`archive_lines`)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("version", no_wrap=True)
    table.add_column("description", ratio=1)
    table.add_column("state", no_wrap=True)
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("by")
    for r in rows:
        when = _minute(r.applied_at)
        if r.rolled_back_at:
            when = f"rolled back at {_minute(r.rolled_back_at)}"
        table.add_row(
            r.version,
            escape(r.description),
            f"[{COLOURS.get(r.state, 'white')}]{r.state}[/]",
            when,
            escape(r.applied_by or ""),
        )
    return table


def archive_lines(rows: list[StatusRow]) -> list[str]:
    """Each migration's latest archived run, one line each and never cut: a reviewer (and
    `restore`, `history`) needs the whole path."""
    return [
        f"  {r.version}  {escape(r.archive or r.run_id or '')}"
        for r in rows
        if r.archive or r.run_id
    ]


def _minute(stamp: str | None) -> str:
    """``2026-12-02T03:00:00.000+00:00`` → ``2026-12-02 03:00:00``."""
    return (stamp or "").replace("T", " ")[:19]


def attention(rows: list[StatusRow]) -> list[StatusRow]:
    return [r for r in rows if r.state in NEEDS_ATTENTION]


@app.command()
def status(
    env: EnvOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 1 if a migration is failed, modified, running, awaiting or missing.",
        ),
    ] = False,
    fleet: Annotated[
        str | None, typer.Option("--fleet", help="A tenants × migrations matrix of fleet NAME.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Each migration's state on an environment (or on every environment of a fleet)."""
    from workbook.command import commands

    if fleet is not None:  # workbook/command/cli_fleet.py
        from workbook.command import cli_fleet

        _guard(lambda: cli_fleet.refuse_with_fleet(env=env))
        cli_fleet.show_status(fleet, as_json=as_json, check=check, workspace=workspace)
        return
    environment, rows = _guard(lambda: commands.status(_workspace(workspace), env))
    if as_json:
        print(
            json.dumps(
                {
                    "environment": environment.name,
                    "migrations": [dataclasses.asdict(r) for r in rows],
                },
                indent=2,
            )
        )
    else:
        out.print(status_table(environment.describe(), rows))
        lines = archive_lines(rows)
        if lines:
            out.print("latest archived runs:")
            for line in lines:
                out.print(line, soft_wrap=True)
        for r in rows:
            if r.error:
                colour = COLOURS.get(r.state, "red")  # awaiting: its step and the command
                line = escape(r.error.splitlines()[0])
                out.print(f"[{colour}]{r.version} {r.state}:[/] {line}", soft_wrap=True)
    flagged = attention(rows)
    if check and flagged:
        if not as_json:
            names = ", ".join(f"{r.version} {r.state}" for r in flagged)
            out.print(f"[bold red]check failed:[/] {names}")
        raise typer.Exit(CHECK_EXIT)
