"""Bad input to the run verbs: one line naming the problem and the fix, exit code 2, nothing
written. In-process (see cli_inproc); the one case that needs a kernel stays in
tests/product/test_bad_input.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from appwrite.services.tables_db import TablesDB
from cli_inproc import (
    TEST_KEY_ENV,
    CliWorkspace,
    add_environment,
    assert_refused,
    new_workspace,
    snapshot,
)

from workbook.local.server import LocalServer


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


def refused(ws: CliWorkspace, *args: str, needles: tuple[str, ...]) -> None:
    before = snapshot(ws.root)
    assert_refused(ws.run(*args), *needles, unchanged=(ws.root, before))


def test_unknown_environment(ws: CliWorkspace) -> None:
    refused(ws, "up", "--env", "prod", needles=("unknown environment 'prod'", "workbook.toml"))


def test_unknown_environment_from_the_variable(ws: CliWorkspace) -> None:
    ws.env["WORKBOOK_ENV"] = "prod"
    refused(ws, "status", needles=("unknown environment 'prod'",))


def test_missing_key_variable_is_named(
    ws: CliWorkspace, local_server: LocalServer, database_id: str
) -> None:
    add_environment(ws, local_server, database=database_id)
    del ws.env[TEST_KEY_ENV]
    refused(ws, "status", "--env", "test", needles=(f"${TEST_KEY_ENV}",))


def test_wrong_key_is_refused_without_echoing_it(
    ws: CliWorkspace, local_server: LocalServer, database_id: str
) -> None:
    add_environment(ws, local_server, database=database_id)
    ws.env[TEST_KEY_ENV] = "standard_" + "ab" * 40
    before = snapshot(ws.root)
    result = ws.run("up", "--env", "test")
    assert_refused(result, f"the key in ${TEST_KEY_ENV} was refused", unchanged=(ws.root, before))
    assert "abab" not in result.output


def test_unreachable_endpoint(ws: CliWorkspace) -> None:
    with (ws.root / "workbook.toml").open("a") as f:
        f.write(
            '\n[environments.gone]\nendpoint = "http://127.0.0.1:9/v1"\n'
            'project = "p"\nkey_env = "GONE_KEY"\n'
        )
    ws.env["GONE_KEY"] = "x" * 20
    refused(ws, "status", "--env", "gone", needles=("cannot reach http://127.0.0.1:9/v1",))


def test_two_migrations_with_one_version(ws: CliWorkspace) -> None:
    m = ws.root / "migrations"
    shutil.copy(m / "002_add_blog_views.ipynb", m / "002_copy.ipynb")
    refused(ws, "up", needles=("two migrations have version 002",))


@pytest.mark.parametrize(
    ("selector", "needle"), [("9", "no migration '9'"), ("../x", "looks like a path")]
)
def test_bad_migration_selector(ws: CliWorkspace, selector: str, needle: str) -> None:
    refused(ws, "up", "--migration", selector, needles=(needle,))


@pytest.mark.parametrize(
    ("pair", "needle"),
    [
        ("batch_size", "is not KEY=VALUE"),
        ("direction=down", "set by Workbook itself"),
        ("nope=1", "no migration takes"),
        ("api_key=x", "looks like a secret"),
    ],
)
def test_bad_parameters(ws: CliWorkspace, pair: str, needle: str) -> None:
    refused(ws, "up", "-p", pair, needles=(needle,))


def test_a_parameter_of_the_wrong_type_runs_nothing(ws: CliWorkspace) -> None:
    """Checked against the pending migrations, so after connecting: no run, no archive."""
    assert_refused(ws.run("up", "-p", "batch_size=lots"), "does not fit migration 002")
    assert not (ws.root / "history").exists()


def test_down_with_nothing_applied(ws: CliWorkspace) -> None:
    result = ws.run("down")
    assert_refused(result, "nothing is applied on 'local'")
    assert not (ws.root / "history").exists()


def test_confirm_environments_need_yes_outside_a_terminal(
    ws: CliWorkspace, local_server: LocalServer, tables: TablesDB, database_id: str
) -> None:
    add_environment(ws, local_server, database=database_id)
    with (ws.root / "workbook.toml").open("a") as f:
        f.write("confirm = true\n")
    refused(ws, "up", "--env", "test", needles=("environment 'test' needs confirmation", "--yes"))
    assert [t.id for t in tables.list_tables(database_id).tables] == []
