"""Bad input through a real process: one line naming the problem and the fix, exit code 2.

The many refusals are checked in-process (tests/unit/test_bad_input_*.py, via cli_inproc);
this keeps what needs a real process: the shape of a refusal as a shell sees it, and a dry
run (a kernel) on an environment that needs confirmation.
"""

from __future__ import annotations

from cli_support import Workspace, add_environment
from sdk_support import tables_for


def assert_refused(result, *needles: str) -> None:  # noqa: ANN001
    assert result.code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_a_refusal_as_a_shell_sees_it(workspace: Workspace) -> None:
    assert_refused(
        workspace.run("up", "--env", "prod"), "unknown environment 'prod'", "workbook.toml"
    )
    assert not (workspace.root / "history").exists()


def test_confirm_environments_need_yes_outside_a_terminal(workspace: Workspace, server) -> None:  # noqa: ANN001
    add_environment(workspace, server)
    with (workspace.root / "workbook.toml").open("a") as f:
        f.write("confirm = true\n")

    tables_for(server).create("main", "main")
    assert_refused(
        workspace.run("up", "--env", "test"), "environment 'test' needs confirmation", "--yes"
    )
    assert not list((workspace.root / "history").glob("test/*.ipynb"))
    # A dry run changes nothing, so it needs no confirmation.
    assert workspace.run("up", "--env", "test", "--dry-run", "--migration", "001").code == 0
