"""``workbook init``, ``workbook schema …`` and ``workbook resolve``: schema as code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from workbook.command.cli import EnvOption, WorkspaceOption, _guard, _workspace, app, out

if TYPE_CHECKING:  # the ledger loads the Appwrite SDK: only the command that needs it
    from workbook.core.ledger import RunRecord

schema_app = typer.Typer(no_args_is_help=True, help="The schema of an environment, as code.")
app.add_typer(schema_app, name="schema")


@app.command()
def init(
    folder: Annotated[
        Path, typer.Argument(help="The repository folder (default: the current one).")
    ] = Path("."),
) -> None:
    """Start a workspace in an existing repository: workbook.toml, migrations/, notebooks/,
    .gitignore rules. Refuses, changing nothing, where a workspace exists."""
    from workbook.command.init import init as init_workspace

    written = _guard(lambda: init_workspace(folder))
    root = folder.resolve()
    for path in written:
        out.print(f"wrote {escape(str(path.relative_to(root)))}")
    out.print(
        "next: add your environments to workbook.toml, then "
        "`workbook schema pull --env E` and `workbook create --name baseline --baseline --env E`"
    )


@schema_app.command("pull")
def schema_pull(
    env: EnvOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write this file (default: stdout).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The live schema in the Appwrite CLI's appwrite.config.json format."""
    from workbook.command import schema_cmd

    data = _guard(lambda: schema_cmd.pull(_workspace(workspace), env, output))
    if output is None:
        print(json.dumps(data, indent=4, ensure_ascii=False))
    else:
        out.print(f"wrote {escape(str(output))}: {len(data['tables'])} table(s)")


@app.command()
def resolve(
    version: Annotated[str, typer.Argument(help="The migration (e.g. 002).")],
    applied: Annotated[
        bool, typer.Option("--applied", help="Its changes are in place: count it applied.")
    ] = False,
    rolled_back: Annotated[
        bool, typer.Option("--rolled-back", help="Its changes are undone: count it pending.")
    ] = False,
    env: EnvOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Repair a failed ledger entry by appending a row (history is never edited)."""
    from workbook.command import adopt
    from workbook.errors import WorkbookError

    def run() -> RunRecord:
        if applied == rolled_back:
            raise WorkbookError(
                "resolve needs exactly one of --applied and --rolled-back",
                f"e.g. workbook resolve {version} --applied",
            )
        return adopt.resolve(_workspace(workspace), env, version, applied=applied)

    record = _guard(run)
    what = "applied" if applied else "rolled back"
    out.print(
        f"[green]✓[/] {record.version} {escape(record.description)}: resolved as {what} "
        f"on '{escape(record.environment)}' by {escape(record.applied_by)}"
    )


@app.command()
def verify(
    env: EnvOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Check files, migrations/workbook.sum and the ledger; exit 1 on any finding."""
    import dataclasses

    from workbook.command import verify as verifying

    result = _guard(lambda: verifying.verify(_workspace(workspace), env))
    if as_json:
        findings = [dataclasses.asdict(f) for f in result.findings]
        print(
            json.dumps(
                {
                    "environment": result.environment,
                    "ok": result.ok,
                    "migrations": result.migrations,
                    "findings": findings,
                },
                indent=2,
            )
        )
    else:
        for f in result.findings:
            out.print(f"[red]{f.code}[/] {escape(f.message)}", soft_wrap=True)
        if result.ok:
            out.print(
                f"[green]✓[/] {result.migrations} migration(s), workbook.sum and the ledger of "
                f"'{escape(result.environment)}' agree"
            )
    if not result.ok:
        raise typer.Exit(1)


@app.command("hash")
def rehash(workspace: WorkspaceOption = None) -> None:
    """Rewrite migrations/workbook.sum from the migrations as they are (after review)."""
    from workbook.core import integrity

    path = _guard(lambda: integrity.write_sum(_workspace(workspace).migrations))
    out.print(f"wrote {escape(str(path))}")


SchemaFileOption = Annotated[
    Path | None, typer.Option("--schema", help="An appwrite.config.json (schema pull -o).")
]
AgainstOption = Annotated[str | None, typer.Option("--against", help="Another environment.")]


@app.command("diff")
def schema_diff(
    env: EnvOption = None,
    schema: SchemaFileOption = None,
    against: AgainstOption = None,
    expected: Annotated[
        bool, typer.Option("--expected", help="What its migrations should have produced.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when there is a difference.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """The changes that would bring an environment to a schema file, another environment, or
    the schema its migrations should have produced (default), each classified as Appwrite
    allows it: add, update (in place), rename, recreate (destructive), delete (destructive)."""
    from rich.table import Table

    from workbook.command import diff as diffing

    found = _guard(
        lambda: diffing.diff(
            _workspace(workspace), env, schema_file=schema, against=against, expected=expected
        )
    )
    if as_json:
        print(
            json.dumps(
                {
                    "environment": found.environment,
                    "against": found.against,
                    "changes": [c.as_dict() for c in found.changes],
                },
                indent=2,
                default=str,
            )
        )
    elif not found.changes:
        out.print(f"'{escape(found.environment)}' matches {escape(found.against)}")
    else:
        table = Table(
            title=f"'{found.environment}' → {found.against}", title_justify="left", expand=False
        )
        for col in ("action", "kind", "table", "key", "detail"):
            table.add_column(col)
        for c in found.changes:
            action = f"[red]{c.action} ⚠[/]" if c.destructive else c.action
            key = f"{c.key} → {c.new_key}" if c.new_key else c.key
            table.add_row(action, c.kind, escape(c.table), escape(key), escape(c.detail))
        out.print(table)
    if exit_code and found.changes:
        raise typer.Exit(1)


@schema_app.command("expected")
def schema_expected(
    to: Annotated[str | None, typer.Option("--to", help="Up to this migration.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write this file (default: stdout).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The schema the migrations produce, replayed on a scratch embedded server (cached by
    cumulative checksum: only new or changed migrations run), as appwrite.config.json."""
    from workbook.command import replay

    schema = _guard(lambda: replay.expected(_workspace(workspace), to))
    data = schema.to_appwrite_json()
    text = json.dumps(data, indent=4, ensure_ascii=False)
    if output is None:
        print(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
        out.print(f"wrote {escape(str(output))}: {len(data['tables'])} table(s)")


@app.command()
def lint(
    migration: Annotated[
        str | None, typer.Option("--migration", "-m", help="Only this one (default: all).")
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Check may-fail changes against this environment's rows."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Replay each migration after its predecessors and report what each cell's schema change
    risks, with stable codes (DS destructive, MF may fail on data, BC backward-incompatible,
    LM limits); exit 1 on a destructive finding no `allow:<code>` cell tag acknowledges, or
    (with --env) on rows of that environment a change would fail on."""
    from workbook.command import lint as linting
    from workbook.command.plan_view import show_lint

    found = _guard(lambda: linting.lint(_workspace(workspace), migration, env))
    if as_json:
        print(json.dumps([f.as_dict() for f in found], indent=2, default=str))
    else:
        show_lint(out, found, indent="")
        if not found:
            out.print("[green]✓[/] no findings")
    if any(f.fails for f in found):
        raise typer.Exit(1)
