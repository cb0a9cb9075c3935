"""`workbook history` never skips a file in silence, and refuses an environment it does not know."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace, snapshot

from workbook.command import commands
from workbook.core.config import Workspace
from workbook.core.history import archived_runs

STAGING = (
    '\n[environments.staging]\nendpoint = "https://x.example/v1"\nproject = "p"\n'
    'key_env = "STAGING_KEY"\n'
)


def archive(run_id: str, **facts: object) -> str:
    """A run's archive as the runner writes it: a notebook whose metadata holds the facts."""
    meta = {
        "run_id": run_id,
        "environment": "local",
        "migration": "001_create_blog_posts",
        "direction": "up",
        "status": "applied",
        "dry_run": False,
        "operator": "ada",
        "started_at": f"2026-01-0{run_id[-1]}T10:00:00+00:00",
        "seconds": 1.5,
        "error": None,
        **facts,
    }
    cell = {"cell_type": "code", "id": "c1", "metadata": {}, "source": "print(1)", "outputs": []}
    cell["execution_count"] = None
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {"workbook": meta}, "cells": [cell]},
        indent=1,
    )


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    ws = new_workspace(tmp_path, folders=("migrations",))
    ws.write("history/local/run1_create_blog_posts.ipynb", archive("run1"))
    ws.write("history/local/run2_create_blog_posts.ipynb", archive("run2", status="failed"))
    return ws


BROKEN = {
    "history/local/array.ipynb": ("[]", "a JSON array, not a notebook object"),
    "history/local/object.ipynb": ('{"a": 1}', "not nbformat 4"),
    "history/local/notes.ipynb": ("just some notes\n", "invalid JSON at line 1"),
    "history/local/bad_cells.ipynb": (
        '{"nbformat": 4, "cells": {}, "metadata": {}}',
        "its cells are not a list",
    ),
    "history/local/bad_facts.ipynb": (
        '{"nbformat": 4, "cells": [], "metadata": {"workbook": "applied"}}',
        "its metadata.workbook is not an object",
    ),
}


def break_history(ws: CliWorkspace) -> None:
    for name, (text, _) in BROKEN.items():
        ws.write(name, text)
    whole = archive("run3")
    ws.write("history/staging/run3_cut.ipynb", whole[: len(whole) // 2])


def assert_warned_once_each(stderr: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == len(BROKEN) + 1, stderr
    for name, (_, why) in BROKEN.items():
        [line] = [li for li in lines if name in li]
        assert line.startswith("warning: ") and why in line and line.endswith("skipped"), line
    [cut] = [li for li in lines if "history/staging/run3_cut.ipynb" in li]
    assert "invalid JSON at line" in cut and "cut off: truncated" in cut


def test_files_that_are_no_archive_are_warned_about_and_skipped(ws: CliWorkspace) -> None:
    break_history(ws)
    result = ws.run("history")
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    assert_warned_once_each(result.stderr)
    listed = [line for line in result.stdout.splitlines() if "2026-01-0" in line]
    assert [("run2" in line, "failed" in line) for line in listed] == [(True, True), (False, False)]
    assert "array.ipynb" not in result.stdout and "run3" not in result.stdout


def test_html_index_warns_and_leaves_them_out(ws: CliWorkspace) -> None:
    break_history(ws)
    unrenderable = json.loads(archive("run4"))
    del unrenderable["cells"][0]["metadata"]  # the catalog reads it; nbconvert refuses it
    ws.write("history/local/run4_odd.ipynb", json.dumps(unrenderable))
    result = ws.run("history", "--html")
    assert result.code == 0, result.output
    assert "Traceback" not in result.output
    render = [li for li in result.stderr.splitlines() if "cannot be rendered" in li]
    assert render == [
        "warning: history/local/run4_odd.ipynb cannot be rendered as HTML "
        "(ValidationError); linked as .ipynb"
    ]
    assert_warned_once_each("\n".join(li for li in result.stderr.splitlines() if li not in render))
    index = (ws.root / "history/index.html").read_text()
    assert "3 archived run(s)" in index and "not rendered" in index
    assert "array.ipynb" not in index and "run3_cut" not in index
    assert (ws.root / "history/local/run1_create_blog_posts.html").is_file()


def test_facts_of_the_wrong_type_do_not_break_the_listing(ws: CliWorkspace) -> None:
    ws.write(
        "history/local/run5_x.ipynb",
        archive("run5", started_at=5, seconds="slow", operator=["x"], dry_run="yes"),
    )
    runs, problems = archived_runs(Workspace(ws.root))
    assert problems == []
    odd = next(r for r in runs if r.run_id == "run5")
    assert (odd.started_at, odd.seconds, odd.operator, odd.dry_run) == ("", None, "", False)
    assert ws.run("history").code == 0


def test_unknown_environment_is_refused_with_the_known_ones(ws: CliWorkspace) -> None:
    (ws.root / "workbook.toml").write_text(STAGING)
    before = snapshot(ws.root)
    result = ws.run("history", "--env", "prodd")
    assert_refused(
        result, "unknown environment 'prodd'", "local, staging", unchanged=(ws.root, before)
    )


def test_unknown_environment_is_refused_before_html_is_written(ws: CliWorkspace) -> None:
    before = snapshot(ws.root)
    assert_refused(
        ws.run("history", "--html", "--env", "nope"),
        "unknown environment 'nope'",
        unchanged=(ws.root, before),
    )
    assert not (ws.root / "history/index.html").exists()


def test_a_known_environment_without_runs_has_an_empty_history(ws: CliWorkspace) -> None:
    (ws.root / "workbook.toml").write_text(STAGING)
    result = ws.run("history", "--env", "staging")
    assert (result.code, result.stderr) == (0, "")
    assert "no archived runs yet" in result.stdout
    assert not (ws.root / "history/staging").exists()


def test_a_fresh_workspace(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path, folders=("migrations",))
    result = ws.run("history", "--env", "local")
    assert (result.code, result.stderr) == (0, "")
    assert "no archived runs yet" in result.stdout


def test_the_notebook_api_raises_python_warnings(ws: CliWorkspace) -> None:
    break_history(ws)
    with pytest.warns(UserWarning) as caught:
        runs = commands.history(Workspace(ws.root), "local")
    assert [r.run_id for r in runs] == ["run2", "run1"]
    assert sorted(str(w.message).split(" ", 1)[0] for w in caught) == sorted(BROKEN)
