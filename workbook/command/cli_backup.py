"""``workbook backup`` (now, streamed, with progress) and ``workbook backups`` (what is on disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from workbook.command.cli import EnvOption, WorkspaceOption, _guard, _workspace, app, err, out

TableOption = Annotated[
    list[str] | None, typer.Option("--table", "-t", help="Only these tables (default: all).")
]


@app.command("backup")
def backup_now(
    env: EnvOption = None,
    table: TableOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Back up tables now: schema and rows, streamed, with a checksummed manifest."""
    from workbook.command import backups
    from workbook.command.progress_view import RowsView

    with RowsView(err, "backup") as view:  # a bar on a terminal, plain lines in a log

        def run() -> tuple[Path, dict[str, int], list[Path]]:
            ws = _workspace(workspace)
            return backups.backup(ws, env, table, on_progress=view.on_progress)

        folder, counts, pruned = _guard(run)
    shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
    for name, rows in counts.items():
        out.print(f"backed up {rows} row(s) of {escape(name)}")
    out.print(f"backup: {escape(str(shown))}", soft_wrap=True)
    for path in pruned:
        out.print(f"pruned: {escape(path.name)} (WORKBOOK_BACKUP_KEEP)", soft_wrap=True)


@app.command("backups")
def list_backups(env: EnvOption = None, workspace: WorkspaceOption = None) -> None:
    """Backups on disk, newest first: size, tables, rows, the run that took them, complete."""
    from workbook.command import backups

    found = _guard(lambda: backups.list_backups(_workspace(workspace), env))
    if not found:
        out.print("no backups yet")
        return
    for b in found:
        state = "complete" if b.complete else "[red]incomplete: never offered for restore[/]"
        if b.empty:
            state = "empty: the run touched no table"
        what = f"{len(b.tables)} table(s) ({', '.join(b.tables)}), {b.rows} row(s)"
        out.print(
            f"{escape(b.path.name)}  {b.taken_at[:19].replace('T', ' ')} UTC  "
            f"run {escape(b.run)}  {escape(what) if b.complete else '-'}  {_size(b.size)}  "
            f"{state}",
            soft_wrap=True,
        )


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"
