"""``workbook fleet up --fleet NAME`` and ``workbook fleet status --fleet NAME``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workbook.command import fleet as fleets
from workbook.command.cli import WorkspaceOption, _guard, _workspace, app, err, out

fleet_app = typer.Typer(help="Apply migrations to many environments at once (on Dask).")
app.add_typer(fleet_app, name="fleet")

FleetOption = Annotated[
    str, typer.Option("--fleet", "-f", help="A [fleets.NAME] of workbook.toml.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
STATE_COLOURS = {"ok": "green", "failed": "red", "skipped": "yellow"}


@fleet_app.command("up")
def fleet_up(
    fleet: FleetOption,
    parallel: Annotated[
        int, typer.Option("--parallel", "-j", min=1, help="Local worker processes.")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="A Dask scheduler address (or $DASK_SCHEDULER_ADDRESS)."),
    ] = None,
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="Finish the other tenants after a failure.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    to: Annotated[str | None, typer.Option("--to", help="Up to this version.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Apply each tenant's pending migrations; canary group first."""

    def show(t: fleets.TenantRun) -> None:
        if as_json:
            return
        colour = STATE_COLOURS[t.state]
        runs = ", ".join(f"{r['version']} {r['status']}" for r in t.runs) or "nothing pending"
        line = (
            f"[{colour}]{t.state:<7}[/] {escape(t.environment)}: {escape(runs)} ({t.seconds:.1f}s)"
        )
        out.print(line if not t.error else f"{line}\n        {escape(t.error)}", soft_wrap=True)

    def run() -> fleets.FleetReport:
        return fleets.up(
            _workspace(workspace),
            fleet,
            parallel=parallel,
            scheduler=scheduler,
            continue_on_error=continue_on_error,
            dry_run=dry_run,
            to=to,
            on_tenant=show,
        )

    report = _guard(run)
    if as_json:
        out.print_json(json.dumps(report.to_json()))
    else:
        counts = {s: sum(t.state == s for t in report.tenants) for s in STATE_COLOURS}
        runs = sum(len(t.runs) for t in report.tenants)
        out.print(
            f"fleet {report.fleet}: {counts['ok']} ok, {counts['failed']} failed, "
            f"{counts['skipped']} skipped; {runs} runs in {report.seconds:.1f}s"
        )
        for t in report.failed:
            err.print(
                f"[red]failed:[/] {escape(t.environment)}: {escape(t.error or 'a run failed')}"
            )
    if not report.ok:
        raise typer.Exit(1)


@fleet_app.command("status")
def fleet_status(
    fleet: FleetOption, as_json: JsonOption = False, workspace: WorkspaceOption = None
) -> None:
    """A tenants × migrations matrix of states."""
    matrix = _guard(lambda: fleets.status(_workspace(workspace), fleet))
    if as_json:
        out.print_json(json.dumps(matrix))
        return
    table = Table(title=f"fleet {matrix['fleet']}", title_justify="left")
    table.add_column("tenant", no_wrap=True)
    for version in matrix["versions"]:
        table.add_column(version, no_wrap=True)
    for tenant, row in matrix["tenants"].items():
        if "error" in row:
            table.add_row(tenant, f"[red]{escape(row['error'])}[/]")
        else:
            table.add_row(tenant, *(row["states"].get(v, "") for v in matrix["versions"]))
    out.print(table)
