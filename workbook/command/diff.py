"""``workbook diff`` and ``workbook create --from-diff``: the plan between an environment and
a schema file, another environment, or what its migrations should have produced."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbook.command import commands, generate
from workbook.command.schema_cmd import live_schema
from workbook.core import integrity
from workbook.core.config import Workspace
from workbook.core.schema import Schema
from workbook.core.schema_diff import Change, plan, read_schema_file
from workbook.errors import WorkbookError


@dataclass
class Diff:
    environment: str
    against: str  # what the environment is compared with, as shown
    changes: list[Change]


def desired_schema(
    workspace: Workspace,
    *,
    schema_file: Path | None = None,
    against: str | None = None,
    expected: bool = False,
) -> tuple[str, Schema]:
    chosen = [x for x in (schema_file, against, expected or None) if x]
    if len(chosen) > 1:
        raise WorkbookError(
            "--schema, --against and --expected exclude each other", "pass one of them"
        )
    if schema_file is not None:
        return str(schema_file), read_schema_file(schema_file)
    if against is not None:
        workspace.environment(against)  # an unknown name is refused before any connection
        return f"environment '{against}'", live_schema(workspace, against)
    raise AssertionError("diff() handles --expected")


def diff(
    workspace: Workspace,
    env: str | None,
    *,
    schema_file: Path | None = None,
    against: str | None = None,
    expected: bool = False,
) -> Diff:
    """The changes that would bring ``env`` to the file, the other environment, or the
    expected schema (the default)."""
    environment = workspace.environment(env)
    if schema_file is None and against is None:
        label, desired = _expected_for(workspace, env)
    else:
        label, desired = desired_schema(
            workspace, schema_file=schema_file, against=against, expected=expected
        )
    current = live_schema(workspace, env)
    return Diff(environment.name, label, plan(current, desired))


def _expected_for(workspace: Workspace, env: str | None) -> tuple[str, Schema]:
    """What the migrations applied on ``env`` should have produced (replayed, cached)."""
    from workbook.command import replay
    from workbook.core.status import status_rows

    with commands.opened(workspace, env) as o:
        rows = status_rows(o.catalog, o.states)
    applied = [r.version for r in rows if r.state in ("applied", "stamped", "modified")]
    if not applied:
        return "the expected schema (no migration applied)", Schema("main", [])
    last = applied[-1]
    return f"the expected schema (migrations up to {last})", replay.expected(workspace, last)


def create_from_diff(
    workspace: Workspace,
    env: str | None,
    name: str,
    *,
    schema_file: Path | None = None,
    against: str | None = None,
    no_renames: bool = False,
    description: str | None = None,
) -> Path:
    """A migration whose up cells bring ``env`` to the desired schema (safe order, gated
    irreversible steps) and whose down cells bring it back where reversible."""
    if schema_file is None and against is None:
        raise WorkbookError(
            "--from-diff needs --schema FILE or --against ENV", "say what the target schema is"
        )
    found = diff(workspace, env, schema_file=schema_file, against=against)
    up, down = generate.plan_cells(found.changes, no_renames=no_renames)
    title = description or f"{name.replace('_', ' ').capitalize()} (generated from a diff)"
    path = commands.create(workspace, name, title, cells={"up": up, "down": down})
    if "confirmed=confirmed" in up:
        _add_confirmed_parameter(path)
        integrity.write_sum(workspace.migrations)
    return path


def _add_confirmed_parameter(path: Path) -> None:
    """The gate's ``confirmed`` knob, in the parameters cell (plain JSON, as create writes)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            source = source.rstrip("\n") + (
                '\nconfirmed = ""  # checklist steps confirmed, e.g. "data_loss_ok"'
            )
            cell["source"] = source.splitlines(keepends=True)
            break
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
