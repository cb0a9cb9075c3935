"""``workbook …``: a thin shell over ``workbook.command.commands`` (parse, call, render)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from workbook.core.config import Environment, Workspace, find_workspace
from workbook.errors import AWAITING_EXIT_CODE, WorkbookError
from workbook.settings import DEBUG, LOCAL_KEY

# Start-up: the Appwrite SDK, papermill's runner, pandas and rich tables load inside the
# commands that use them, so `--help`, `create` and `status` start in well under a second
# (tests/unit/test_startup_imports.py, benchmarks/startup.py).
if TYPE_CHECKING:
    from workbook.command.progress_view import RowsView
    from workbook.command.runner import RunResult
    from workbook.core.catalog import Migration

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Versioned, notebook-driven migrations for Appwrite databases.",
)
local_app = typer.Typer(no_args_is_help=True, help="The embedded local Appwrite server.")
app.add_typer(local_app, name="local")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
T = TypeVar("T")

EnvOption = Annotated[str | None, typer.Option("--env", "-e", help="Environment (default: local).")]
MigrationOption = Annotated[
    str | None,
    typer.Option("--migration", "-m", help="A version (002) or name (002_add_blog_views)."),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--parameter", "-p", help="KEY=VALUE for a migration's own parameters."),
]
BackupOption = Annotated[
    bool, typer.Option("--backup/--no-backup", help="Export tables before writing runs.")
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Confirm changes to environments marked confirm.")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Up to this version (down: back to it, kept).")
]
StepsOption = Annotated[
    int | None, typer.Option("--steps", help="Only the next N (down: the latest N).")
]
WorkspaceOption = Annotated[
    Path | None, typer.Option("--workspace", "-w", help="Workspace folder.")
]


def _guard(fn: Callable[[], T]) -> T:
    """User errors as one line and a hint, exit code 2; no traceback unless debugging."""
    try:
        return fn()
    except WorkbookError as exc:
        if DEBUG.get():
            raise
        # soft_wrap: one line per message whatever the terminal's width (the terminal wraps)
        err.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
        if exc.hint:
            err.print(f"  [dim]hint:[/] {escape(exc.hint)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("[bold red]interrupted:[/] nothing more was started; the lock is released")
        raise typer.Exit(130) from None
    except Exception as exc:
        # an Appwrite error can only come from a command that loaded the SDK
        sdk = sys.modules.get("appwrite.exception")
        if sdk is None or not isinstance(exc, sdk.AppwriteException) or DEBUG.get():
            raise
        err.print(
            f"[bold red]error:[/] Appwrite answered {exc.code} {exc.type}: "
            f"{escape(str(exc.message))}"
        )
        raise typer.Exit(2) from None


def _workspace(path: Path | None) -> Workspace:
    return Workspace(path.resolve()) if path else find_workspace()


def _announce(
    dry_run: bool, direction: str, yes: bool, ws: Workspace | None = None
) -> tuple[Callable[[Environment, list[Migration]], None], Callable[[RunResult], None]]:
    """What a sequence says: the plan (confirmed), ``[n/N]`` as each run starts, each result;
    a dry run also shows each migration's lint findings (``workbook lint``) under its plan."""
    from workbook.command.progress_view import SequenceView

    sequence = SequenceView(out, direction)
    findings: dict[str, object] = {}

    def show(env: Environment, todo: list[Migration]) -> None:
        mode = " (dry run)" if dry_run else ""
        out.print(f"[bold]{escape(env.describe())}[/]{mode}")
        if not todo:
            out.print("  nothing to do: every migration is applied")
        for m in todo:
            out.print(f"  [dim]→ {direction} {m.version} {escape(m.description)}[/]")
        if todo and not dry_run:
            _confirm(env, yes)
        if todo and dry_run and ws is not None:  # replayed on a scratch server, cached
            from workbook.command import lint

            findings.update(lint.for_dry_run(ws, env.name, todo, direction))
        sequence.start(env, todo)

    def result(run: RunResult) -> None:
        _show_result(run)
        if run.dry_run and run.migration.version in findings:
            from workbook.command.plan_view import show_lint

            show_lint(out, findings[run.migration.version])
        sequence.finished(run)

    return show, result


def _confirm(env: Environment, yes: bool) -> None:
    """Environments marked `confirm = true` change only on purpose: --yes, or the name typed."""
    if not env.confirm or yes:
        return
    if not sys.stdin.isatty():
        raise WorkbookError(
            f"environment '{env.name}' needs confirmation before it is changed",
            "pass --yes (in CI), or run in a terminal to type its name",
        )
    answer = typer.prompt(f"This changes '{env.name}'. Type its name to continue")
    if answer.strip() != env.name:
        raise WorkbookError(
            f"confirmation did not match '{env.name}'; nothing was changed",
            "run again and type the environment's name",
        )


def _backup_view() -> RowsView:
    """The rows of the backup taken before a sequence (``backup = "all"``) as they go."""
    from workbook.command.progress_view import RowsView

    return RowsView(err, "backup before the sequence")


def _show_result(result: RunResult) -> None:
    from workbook.command import plan_view
    from workbook.command.runner import relative_or_path

    mark = {"applied": "[green]✓[/]", "dry-run": "[cyan]○[/]", "awaiting": "[yellow]‖[/]"}.get(
        result.status, "[red]✗[/]"
    )
    archive = result.archive
    shown = archive.relative_to(Path.cwd()) if archive.is_relative_to(Path.cwd()) else archive
    out.print(
        f"{mark} {result.migration.version} {escape(result.migration.description)} "
        f"{result.direction}: {result.status} in {result.seconds:.1f}s · "
        f"{escape(str(shown))}"
    )
    if result.backup and result.backup.exists():
        out.print(f"  backup: {escape(relative_or_path(result.backup))}", soft_wrap=True)
    if result.dry_run:
        plan_view.show(out, result.archive)
    if result.error:
        awaiting = result.status == "awaiting"  # its step and command, never cut
        colour = "yellow" if awaiting else "red"
        out.print(f"  [{colour}]{escape(result.error)}[/]", soft_wrap=awaiting)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def _fail_if(results: list[RunResult]) -> None:
    failed = [r for r in results if not r.ok]
    if failed:
        r = failed[0]
        if r.status == "awaiting":  # a checklist gate: a person's step, not a failure
            said = r.error or ""
            confirm = said[said.find("confirm with ") :] if "confirm with " in said else said
            err.print(
                f"[bold yellow]awaiting:[/] migration {r.migration.version} on "
                f"'{r.environment}' stopped at its checklist gate before the cells after it "
                f"ran; {escape(confirm)}",
                soft_wrap=True,
            )
            raise typer.Exit(AWAITING_EXIT_CODE)
        if r.status == "unsettled":
            err.print(
                f"[bold red]unsettled:[/] migration {r.migration.version} on "
                f"'{r.environment}' finished, but its outcome could not be read from the "
                f"ledger; `workbook status --env {r.environment}` settles it: {r.archive}"
            )
        else:
            err.print(
                f"[bold red]failed:[/] migration {r.migration.version} on "
                f"'{r.environment}'; its executed notebook shows where: {r.archive}"
            )
        raise typer.Exit(1)


@app.command()
def up(
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", "-e", help="Environment(s), run in the order given (default: local)."
        ),
    ] = None,
    migration: MigrationOption = None,
    dry_run: DryRunOption = False,
    parameter: ParamOption = None,
    backup: BackupOption = True,
    yes: YesOption = False,
    to: ToOption = None,
    steps: StepsOption = None,
    fleet: Annotated[
        str | None, typer.Option("--fleet", help="Every environment of fleet NAME, on Dask.")
    ] = None,
    parallel: Annotated[
        int, typer.Option("--parallel", "-j", min=1, help="With --fleet: local workers.")
    ] = 2,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="With --fleet: a Dask scheduler address.")
    ] = None,
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="With --fleet: finish the others.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Apply pending migrations (or one, or up to --to, or --steps of them); with --fleet,
    to every environment of a fleet."""
    if fleet is not None:  # workbook/command/cli_fleet.py
        from workbook.command import cli_fleet

        _guard(
            lambda: cli_fleet.refuse_with_fleet(
                env=env, migration=migration, steps=steps, parameter=parameter, no_backup=not backup
            )
        )
        cli_fleet.run_up(
            fleet,
            parallel=parallel,
            scheduler=scheduler,
            continue_on_error=continue_on_error,
            dry_run=dry_run,
            to=to,
            as_json=False,
            workspace=workspace,
            yes=yes,
        )
        return

    def run() -> list[RunResult]:
        from workbook.command import commands, targets

        ws = _workspace(workspace)
        params = commands.parse_parameters(parameter or [])
        targets.check_target(migration, to, steps)
        envs: list[str | None] = list(env) if env else [None]
        on_start, on_result = _announce(dry_run, "up", yes, ws)
        return commands.up(
            ws,
            envs,
            migration=migration,
            dry_run=dry_run,
            parameters=params,
            backup=backup,
            on_result=on_result,
            on_start=on_start,
            to=to,
            steps=steps,
            backup_view=_backup_view,
        )

    _fail_if(_guard(run))


@app.command()
def down(
    env: EnvOption = None,
    migration: MigrationOption = None,
    dry_run: DryRunOption = False,
    parameter: ParamOption = None,
    backup: BackupOption = True,
    yes: YesOption = False,
    to: ToOption = None,
    steps: StepsOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Roll back the last applied migration, or the named one, or all after --to (newest
    first), or the latest --steps."""

    def run() -> list[RunResult]:
        from workbook.command import commands, targets

        ws = _workspace(workspace)
        params = commands.parse_parameters(parameter or [])
        targets.check_target(migration, to, steps)
        on_start, on_result = _announce(dry_run, "down", yes, ws)
        if to is not None or steps is not None:
            return targets.down(
                ws,
                env,
                to=to,
                steps=steps,
                dry_run=dry_run,
                parameters=params,
                backup=backup,
                on_result=on_result,
                on_start=on_start,
                backup_view=_backup_view,
            )
        result = commands.down(
            ws,
            env,
            migration=migration,
            dry_run=dry_run,
            parameters=params,
            backup=backup,
            on_start=on_start,
            backup_view=_backup_view,
        )
        on_result(result)
        return [result]

    _fail_if(_guard(run))


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", "-n", help="e.g. add_new_field")],
    description: Annotated[str | None, typer.Option(help="The title.")] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline", help="Up cells create --env's live schema from nothing.")
    ] = False,
    from_diff: Annotated[
        bool, typer.Option("--from-diff", help="Up cells bring --env to --schema/--against.")
    ] = False,
    schema: Annotated[
        Path | None, typer.Option("--schema", help="With --from-diff: the target schema file.")
    ] = None,
    against: Annotated[
        str | None, typer.Option("--against", help="With --from-diff: the target environment.")
    ] = None,
    no_renames: Annotated[
        bool, typer.Option("--no-renames", help="With --from-diff: drop + add, never rename.")
    ] = False,
    env: EnvOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A new migration notebook from the template, with the next version number."""

    def run() -> Path:
        if baseline:
            from workbook.command.adopt import create_baseline

            return create_baseline(_workspace(workspace), env, name, description)
        if from_diff:
            from workbook.command.diff import create_from_diff

            return create_from_diff(
                _workspace(workspace),
                env,
                name,
                schema_file=schema,
                against=against,
                no_renames=no_renames,
                description=description,
            )
        from workbook.command.scaffold import create as create_migration

        return create_migration(_workspace(workspace), name, description)

    path = _guard(run)
    out.print(f"created {path}")


@app.command()
def history(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this one.")] = None,
    limit: Annotated[int, typer.Option(help="Newest N runs.")] = 50,
    html: Annotated[
        bool, typer.Option("--html", help="Also write history/index.html and a page per run.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Archived runs, newest first."""

    def warn(message: str) -> None:  # one line each, on stderr: a skipped file is never silent
        err.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)

    from rich.table import Table

    from workbook.command import commands

    ws = _guard(lambda: _workspace(workspace))
    all_runs = _guard(lambda: commands.history(ws, env, on_warning=warn))
    if html:
        from workbook.command.report import write_index

        out.print(f"wrote {write_index(ws.history, all_runs, on_warning=warn)}")
    runs = all_runs[:limit]
    table = Table(title="archived runs (newest first)", title_justify="left")
    for col in ("started (UTC)", "env", "migration", "dir", "status", "by", "archive"):
        table.add_column(col)
    for r in runs:
        status_text = r.status + (" (dry run)" if r.dry_run and r.status != "dry-run" else "")
        table.add_row(
            r.started_at,
            r.environment,
            escape(r.migration),
            r.direction,
            status_text,
            escape(r.operator),
            escape(r.path.name),
        )
    out.print(table if runs else "no archived runs yet")


@app.command()
def restore(
    backup: Annotated[Path, typer.Argument(help="A folder under history/<env>/backups/.")],
    env: EnvOption = None,
    table: Annotated[
        list[str] | None, typer.Option("--table", "-t", help="Only these tables (default: all).")
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="merge: upsert the backed-up rows; replace: also delete the others."
        ),
    ] = "merge",
    into_database: Annotated[
        str | None,
        typer.Option("--into-database", help="Restore beside the original, into this database."),
    ] = None,
    yes: YesOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Undo a run from a backup: tables, columns, indexes and rows as backed up."""

    def run() -> list:
        from workbook.command import commands
        from workbook.command.progress_view import RowsView
        from workbook.command.restore import rows_to_restore

        ws = _workspace(workspace)
        _confirm(ws.environment(env), yes)
        total = rows_to_restore(backup, table)  # the manifest's counts: a bar with an end
        with RowsView(err, "restore", total=total) as view:  # plain lines in a log
            return commands.restore(
                ws,
                env,
                backup,
                table,
                mode=mode,
                into_database=into_database,
                on_progress=view.on_progress,
            )

    for done in _guard(run):
        for line in done.lines():
            out.print(escape(line), soft_wrap=True)


@app.command()
def stamp(
    version: Annotated[str, typer.Argument(help="Up to this migration (e.g. 002).")],
    env: EnvOption = None,
    yes: YesOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Record migrations up to VERSION as applied without running them (adopting a project
    whose database already has their changes)."""

    def run() -> list[Migration]:
        from workbook.command import commands

        ws = _workspace(workspace)
        _confirm(ws.environment(env), yes)
        return commands.stamp(ws, env, version)

    stamped = _guard(run)
    for m in stamped:
        out.print(f"[green]✓[/] {m.version} {escape(m.description)}: stamped (not run)")
    if not stamped:
        out.print("nothing to stamp: those migrations are applied already")


@app.command()
def unlock(env: EnvOption = None, workspace: WorkspaceOption = None) -> None:
    """Break the lock a dead run left behind."""
    from workbook.command import commands

    holder = _guard(lambda: commands.unlock(_workspace(workspace), env))
    out.print(
        f"released the lock of run {holder.holder} by {holder.owner} on {holder.host}; "
        "its unfinished runs are recorded as failed"
        if holder
        else "no lock was held"
    )


@local_app.command("serve")
def local_serve(
    db: Annotated[Path | None, typer.Option(help="SQLite file.")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the embedded Appwrite-compatible server until interrupted."""
    from workbook.core.config import LOCAL_PROJECT
    from workbook.core.local_target import local_database_path
    from workbook.local.server import LocalServerError, check_port, serve

    def run() -> None:
        # the server cannot import workbook.errors: its refusals become ours here
        try:
            check_port(port)  # before the default database's folder is created
            path = db or local_database_path(_workspace(workspace))
            serve(path, port=port, project_id=LOCAL_PROJECT, api_key=LOCAL_KEY.get())
        except LocalServerError as exc:
            raise WorkbookError(exc.message, exc.hint) from exc

    _guard(run)


def _register_command_modules() -> None:
    """Verbs that live in their own module (``workbook/command/cli_*.py``) add themselves to
    ``app`` when imported; each area of the CLI grows in its own file."""
    import importlib
    import pkgutil

    import workbook.command as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("cli_"):
            importlib.import_module(f"workbook.command.{module.name}")


_register_command_modules()


def main() -> None:
    app(prog_name="workbook")


if __name__ == "__main__":
    main()
    sys.exit(0)
