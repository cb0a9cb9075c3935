"""``workbook up --fleet NAME`` and ``workbook status --fleet NAME`` (the ``up`` and
``status`` verbs hand over here), and their aliases ``workbook fleet up|status``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from workbook.command.cli import WorkspaceOption, _guard, _workspace, app, err, out
from workbook.errors import AWAITING_EXIT_CODE, WorkbookError

fleet_app = typer.Typer(help="Aliases of `up --fleet` and `status --fleet`.")
app.add_typer(fleet_app, name="fleet")

INTERRUPTED_EXIT = 130
FleetOption = Annotated[str, typer.Option("--fleet", "-f", help="A fleet of workbook.toml.")]
ParallelOption = Annotated[
    int, typer.Option("--parallel", "-j", min=1, help="With --fleet: local worker processes.")
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="With --fleet: a Dask scheduler address (or $DASK_SCHEDULER_ADDRESS)."
    ),
]
ContinueOption = Annotated[
    bool,
    typer.Option(
        "--continue-on-error", help="With --fleet: finish the other tenants after a failure."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def refuse_with_fleet(**given: object) -> None:
    """``--fleet`` names its environments itself: options that pick one run are refused."""
    clashing = [name for name, value in given.items() if value]
    if clashing:
        flag = "--" + clashing[0].replace("_", "-")
        raise WorkbookError(
            f"--fleet and {flag} cannot be used together",
            f"a fleet names its environments in workbook.toml: drop {flag}, or drop --fleet "
            "to run one environment",
        )


def confirm_fleet(name: str, marked: list[str], yes: bool) -> None:
    """A fleet with environments marked ``confirm = true`` changes only on purpose: --yes,
    or the fleet's name typed once for all of them."""
    if not marked or yes:
        return
    shown = ", ".join(marked[:5]) + (f" and {len(marked) - 5} more" if len(marked) > 5 else "")
    if not sys.stdin.isatty():
        raise WorkbookError(
            f"fleet '{name}' has environments marked confirm ({shown})",
            "pass --yes (in CI), or run in a terminal to type the fleet's name",
        )
    answer = typer.prompt(f"This changes {shown}. Type the fleet's name to continue")
    if answer.strip() != name:
        raise WorkbookError(
            f"confirmation did not match '{name}'; nothing was changed",
            "run again and type the fleet's name",
        )


def run_up(
    name: str,
    *,
    parallel: int,
    scheduler: str | None,
    continue_on_error: bool,
    dry_run: bool,
    to: str | None,
    as_json: bool,
    workspace: Path | None,
    yes: bool = False,
) -> None:
    """Roll the fleet out with a live table (plain lines without a terminal), then the
    summary; exit 1 if a tenant failed, AWAITING_EXIT_CODE if tenants only await a
    confirmation, 130 after Ctrl-C."""
    from workbook.command import fleet as fleets
    from workbook.command.fleet_view import Board, print_summary

    board = Board(err if as_json else out, name)

    def interrupted() -> None:
        err.print(
            "[bold red]interrupted:[/] no more tenants start; running tenants finish the "
            "migration they are in (Ctrl-C again stops waiting)"
        )

    def run() -> Any:
        ws = _workspace(workspace)
        fleet = fleets.fleet_of(ws, name)  # refusals before the table appears
        if not dry_run:
            confirm_fleet(name, [e for e in fleet.environments if ws.environment(e).confirm], yes)
        with board.shown():
            return fleets.up(
                ws,
                name,
                parallel=parallel,
                scheduler=scheduler,
                continue_on_error=continue_on_error,
                dry_run=dry_run,
                to=to,
                on_progress=board.update,
                on_interrupt=interrupted,
            )

    report = _guard(run)
    if as_json:
        out.print_json(json.dumps(report.to_json()))
    else:
        print_summary(out, err, report)
    if report.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    if not report.ok:
        # only a person's confirmation missing: the distinct code `up` exits with
        raise typer.Exit(AWAITING_EXIT_CODE if report.awaiting and not report.failed else 1)


def show_status(name: str, *, as_json: bool, check: bool, workspace: Path | None) -> None:
    """A tenants × migrations matrix of states; with ``check``, exit 1 when a tenant cannot
    be read or a migration needs attention (as ``status --check`` does for one)."""
    from rich.table import Table

    from workbook.command import fleet as fleets
    from workbook.command.cli_status import CHECK_EXIT, COLOURS, NEEDS_ATTENTION

    matrix = _guard(lambda: fleets.status(_workspace(workspace), name))
    if as_json:
        print(json.dumps(matrix, indent=2))
    else:
        table = Table(title=f"fleet {escape(matrix['fleet'])}", title_justify="left")
        table.add_column("tenant", no_wrap=True)
        for version in matrix["versions"]:
            table.add_column(version, no_wrap=True)
        for tenant, row in matrix["tenants"].items():
            if "error" in row:
                table.add_row(escape(tenant), f"[red]{escape(row['error'])}[/]")
                continue
            states = [row["states"].get(v, "") for v in matrix["versions"]]
            table.add_row(escape(tenant), *(f"[{COLOURS.get(s, 'white')}]{s}[/]" for s in states))
        out.print(table)
    flagged = [
        tenant
        for tenant, row in matrix["tenants"].items()
        if "error" in row or any(s in NEEDS_ATTENTION for s in row["states"].values())
    ]
    if check and flagged:
        if not as_json:
            out.print(f"[bold red]check failed:[/] {escape(', '.join(flagged))}")
        raise typer.Exit(CHECK_EXIT)


@fleet_app.command("up")
def fleet_up(
    fleet: FleetOption,
    parallel: ParallelOption = 2,
    scheduler: SchedulerOption = None,
    continue_on_error: ContinueOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    to: Annotated[str | None, typer.Option("--to", help="Up to this version.")] = None,
    as_json: JsonOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm marked environments.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Same as `workbook up --fleet NAME`."""
    run_up(
        fleet,
        parallel=parallel,
        scheduler=scheduler,
        continue_on_error=continue_on_error,
        dry_run=dry_run,
        to=to,
        as_json=as_json,
        workspace=workspace,
        yes=yes,
    )


@fleet_app.command("status")
def fleet_status(
    fleet: FleetOption, as_json: JsonOption = False, workspace: WorkspaceOption = None
) -> None:
    """Same as `workbook status --fleet NAME`."""
    show_status(fleet, as_json=as_json, check=False, workspace=workspace)
