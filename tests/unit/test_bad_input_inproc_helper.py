"""The in-process CLI helper itself: what the bad-input tests rely on must be able to fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace, snapshot

from workbook.command import commands


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


def test_an_escaped_exception_shows_as_a_traceback(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "history", broken)
    result = ws.run("history")
    assert result.code == 1
    assert "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr
    with pytest.raises(AssertionError):
        assert_refused(result)


def test_outer_workbook_variables_do_not_leak_in(
    ws: CliWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "workbook.toml").write_text("environments = 5\n")
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(elsewhere))
    monkeypatch.setenv("WORKBOOK_ENV", "nowhere")
    result = ws.run("history", "--env", "local")
    assert (result.code, result.stderr) == (0, ""), result.output
    leaked = ws.run("history", "--env", "local", extra_env={"WORKBOOK_WORKSPACE": str(elsewhere)})
    assert_refused(leaked, "environments is a number")


def test_a_change_to_the_workspace_is_caught(ws: CliWorkspace) -> None:
    before = snapshot(ws.root)
    result = ws.run("history", "--html")
    assert result.code == 0
    result = type(result)(2, "", "error: pretend\n")
    with pytest.raises(AssertionError, match="changed the workspace"):
        assert_refused(result, "pretend", unchanged=(ws.root, before))
