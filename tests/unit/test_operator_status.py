"""``workbook status`` as an operator and CI read it: whole archive paths, "rolled back at"
for a rolled-back migration, and ``--check`` failing on what needs a person."""

from __future__ import annotations

from pathlib import Path

import pytest
from appwrite.client import Client
from cli_inproc import CliWorkspace, add_environment, new_workspace

from workbook.core.catalog import load_catalog
from workbook.core.client import Target
from workbook.core.config import Environment, Workspace
from workbook.core.journal import Journal
from workbook.core.ledger import RunState

LONG = "history/test/20260101T000000-003-up-abcdef-003_a_migration_with_a_long_name.ipynb"


def _journal(ws: CliWorkspace, local_server, database: str) -> Journal:  # noqa: ANN001
    env = Environment(
        name="test",
        project=local_server.project_id,
        database=database,
        key_env="TEST_APPWRITE_KEY",
        endpoint=local_server.endpoint,
    )
    client = (
        Client()
        .set_endpoint(local_server.endpoint)
        .set_project(local_server.project_id)
        .set_key(local_server.api_key)
    )
    return Journal(
        Target(env, client, local_server.endpoint), Workspace(ws.root), operator_name="ops"
    )


def _run(j: Journal, n: int, direction: str, state: RunState, archive: str) -> None:
    migration = load_catalog(j.workspace.migrations)[n]
    run_id = f"run-{migration.version}-{direction}"
    j.open(run_id, lock_id="lock", migration=migration, direction=direction, archive_path=archive)
    j.finish(
        run_id,
        state,
        error="cell 4: IndexError: list index out of range" if state is RunState.FAILED else None,
    )


@pytest.fixture
def ws(tmp_path: Path, local_server, database_id: str) -> CliWorkspace:  # noqa: ANN001
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, database=database_id)
    j = _journal(ws, local_server, database_id)
    j.ledger.ensure()
    _run(j, 0, "up", RunState.APPLIED, "history/test/one.ipynb")
    _run(j, 1, "up", RunState.APPLIED, "history/test/two-up.ipynb")
    _run(j, 1, "down", RunState.APPLIED, "history/test/two-down.ipynb")
    ws.journal = j  # type: ignore[attr-defined]
    return ws


def test_status_check_passes_when_nothing_needs_a_person(ws: CliWorkspace) -> None:
    result = ws.run("status", "--env", "test", "--check", extra_env={"COLUMNS": "110"})
    assert result.code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if "│ 002" in x)
    assert "pending" in line and "rolled back" in result.stdout
    applied = next(x for x in result.stdout.splitlines() if "│ 001" in x)
    assert "rolled back" not in applied and "2026" in applied or "20" in applied


def test_status_check_fails_on_a_failed_migration_and_paths_are_whole(ws: CliWorkspace) -> None:
    _run(ws.journal, 2, "up", RunState.FAILED, LONG)  # type: ignore[attr-defined]
    for width in ("110", "160"):
        shown = ws.run("status", "--env", "test", extra_env={"COLUMNS": width})
        assert shown.code == 0, shown.output  # without --check, status only reports
        assert LONG in shown.stdout, shown.stdout
    checked = ws.run("status", "--env", "test", "--check")
    assert checked.code == 1, checked.output
    assert "check failed: 003 failed" in checked.stdout
    as_json = ws.run("status", "--env", "test", "--json", "--check")
    assert as_json.code == 1 and '"rolled_back_at": "20' in as_json.stdout
