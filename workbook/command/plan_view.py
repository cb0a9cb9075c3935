"""The plan of a dry run, in the terminal: per migration, each step with its table, key,
effect, and whether it destroys something (as Liquibase's ``update-sql`` shows it).

The kernel of a dry run leaves its plan in the sequence's dry-run state file (with its
run id); the runner keeps it in the archive's ``metadata.workbook.plan``, and this module
reads it from there, so the terminal shows what the archive holds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

DESTRUCTIVE = ("delete", "drop", "recreate", "call DELETE")
_NOTE_KEYS = ("reason", "assumes", "rows", "type", "new_key", "default")


def read_plan(state: Path, run_id: str) -> list[dict[str, Any]] | None:
    """The plan the kernel of ``run_id`` left in the dry-run state file, if it did."""
    try:
        saved = json.loads(state.read_text(encoding="utf-8")).get("plan") or {}
    except (OSError, ValueError, AttributeError):
        return None
    return saved.get("steps") if saved.get("run_id") == run_id else None


def destructive(step: dict[str, Any]) -> bool:
    """Does the step lose data (a table, a column, an index, rows) if it runs?"""
    operation = str(step.get("operation", ""))
    detail = step.get("detail") or {}
    return operation.startswith(DESTRUCTIVE) or bool(
        isinstance(detail, dict) and detail.get("destructive")
    )


def plan_table(steps: list[dict[str, Any]], title: str = "") -> Table:
    """The steps as an operator reads them: nothing to do is said, destruction in red."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None, title_justify="left", show_edge=False)
    for name in ("#", "step", "table", "key", "effect", "destructive", "notes"):
        table.add_column(name, overflow="fold")
    for number, step in enumerate(steps, 1):
        table_id, _, key = str(step.get("target", "")).partition(".")
        lost = destructive(step)
        effect = str(step.get("effect", ""))
        table.add_row(
            str(number),
            escape(str(step.get("operation", ""))),
            escape(table_id),
            escape(key),
            effect if effect != "change" else "[yellow]change[/]",
            "[bold red]yes[/]" if lost else "",
            escape(_notes(step.get("detail") or {})),
            style="red" if lost else None,
        )
    return table


def _notes(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    shown = {k: v for k, v in detail.items() if v not in (None, "", [], {})}
    first = [k for k in _NOTE_KEYS if k in shown] + [k for k in shown if k not in _NOTE_KEYS]
    return ", ".join(f"{k}={shown[k]}" for k in first)[:160]


def summary(steps: list[dict[str, Any]]) -> str:
    changes = [s for s in steps if s.get("effect") == "change"]
    lost = [s for s in changes if destructive(s)]
    gates = [s for s in steps if s.get("effect") == "gate"]  # checklists a real run waits at
    text = f"{len(changes)} change(s), {len(steps) - len(changes) - len(gates)} already done"
    text += f", [yellow]{len(gates)} checklist gate(s)[/]" if gates else ""
    return text + (f", [bold red]{len(lost)} destructive[/]" if lost else "")


def steps_of_archive(path: Path) -> list[dict[str, Any]] | None:
    from workbook.core import archive

    facts = archive.facts_of(path) or {}
    steps = facts.get("plan")
    return steps if isinstance(steps, list) else None


def show(console: Any, archive_path: Path) -> None:
    """Print the plan a dry run's archive holds (or say why there is none)."""
    steps = steps_of_archive(archive_path)
    if steps is None:
        console.print("  [dim]plan: not recorded (the notebook stopped before wb.done())[/]")
    elif not steps:
        console.print("  plan: nothing to do")
    else:
        console.print(f"  plan: {summary(steps)}")
        console.print(plan_table(steps))


def show_lint(console: Any, findings: Any, indent: str = "  ") -> None:
    """Lint findings (``workbook.command.lint``), one line each: red when they fail the
    lint, yellow when they only warn, dim when a cell tag allows them."""
    from rich.markup import escape

    if isinstance(findings, str):  # why there are none (the replay could not run)
        console.print(f"{indent}[yellow]lint: {escape(findings)}[/]", soft_wrap=True)
        return
    for f in findings or []:
        colour = "dim" if f.acknowledged else "red" if f.fails else "yellow"
        console.print(f"{indent}[{colour}]{escape(f.line())}[/]", soft_wrap=True)
