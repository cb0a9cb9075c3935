"""Bad input: one line naming the problem and the fix, exit code 2, nothing written."""

from __future__ import annotations

import shutil

import pytest
from cli_support import TEST_KEY_ENV, Workspace, add_environment


def assert_refused(result, *needles: str) -> None:  # noqa: ANN001
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_unknown_environment(workspace: Workspace) -> None:
    assert_refused(
        workspace.run("up", "--env", "prod"), "unknown environment 'prod'", "workbook.toml"
    )
    assert not (workspace.root / "history").exists()


def test_missing_key_variable_is_named(workspace: Workspace, server) -> None:  # noqa: ANN001
    add_environment(workspace, server)
    del workspace.env[TEST_KEY_ENV]
    assert_refused(workspace.run("status", "--env", "test"), f"${TEST_KEY_ENV}")


def test_wrong_key_is_refused_without_echoing_it(workspace: Workspace, server) -> None:  # noqa: ANN001
    add_environment(workspace, server)
    workspace.env[TEST_KEY_ENV] = "standard_" + "ab" * 40
    result = workspace.run("up", "--env", "test")
    assert_refused(result, f"the key in ${TEST_KEY_ENV} was refused")
    assert "abab" not in result.output


def test_unreachable_endpoint(workspace: Workspace) -> None:
    with (workspace.root / "workbook.toml").open("a") as f:
        f.write(
            '\n[environments.gone]\nendpoint = "http://127.0.0.1:9/v1"\n'
            'project = "p"\nkey_env = "GONE_KEY"\n'
        )
    workspace.env["GONE_KEY"] = "x" * 20
    assert_refused(workspace.run("status", "--env", "gone"), "cannot reach http://127.0.0.1:9/v1")


def test_two_migrations_with_one_version(workspace: Workspace) -> None:
    m = workspace.root / "migrations"
    shutil.copy(m / "002_add_blog_views.ipynb", m / "002_copy.ipynb")
    assert_refused(workspace.run("up"), "two migrations have version 002")


def test_invalid_notebook(workspace: Workspace) -> None:
    (workspace.root / "migrations/004_broken.ipynb").write_text("{")
    assert_refused(workspace.run("status"), "004_broken.ipynb is not a valid notebook")


@pytest.mark.parametrize(
    ("selector", "needle"), [("9", "no migration '9'"), ("../x", "looks like a path")]
)
def test_bad_migration_selector(workspace: Workspace, selector: str, needle: str) -> None:
    assert_refused(workspace.run("up", "--migration", selector), needle)


@pytest.mark.parametrize(
    ("pair", "needle"),
    [
        ("batch_size", "is not KEY=VALUE"),
        ("batch_size=lots", "does not fit migration 002"),
        ("direction=down", "set by Workbook itself"),
        ("nope=1", "no migration takes"),
        ("api_key=x", "looks like a secret"),
    ],
)
def test_bad_parameters(workspace: Workspace, pair: str, needle: str) -> None:
    result = workspace.run("up", "-p", pair)
    assert_refused(result, needle)
    assert not list((workspace.root / "history").glob("local/*.ipynb"))


def test_down_with_nothing_applied(workspace: Workspace) -> None:
    assert_refused(workspace.run("down"), "nothing is applied on 'local'")


def test_confirm_environments_need_yes_outside_a_terminal(workspace: Workspace, server) -> None:  # noqa: ANN001
    add_environment(workspace, server)
    with (workspace.root / "workbook.toml").open("a") as f:
        f.write("confirm = true\n")
    from appwrite.client import Client
    from appwrite.services.tables_db import TablesDB

    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    TablesDB(client.set_key(server.api_key)).create("main", "main")
    assert_refused(
        workspace.run("up", "--env", "test"), "environment 'test' needs confirmation", "--yes"
    )
    assert not list((workspace.root / "history").glob("test/*.ipynb"))
    # A dry run changes nothing, so it needs no confirmation.
    assert workspace.run("up", "--env", "test", "--dry-run", "--migration", "001").code == 0
