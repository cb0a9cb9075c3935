"""The operator's JupyterLab, in a real headless Chromium: Run All, the ledger, the checklist
gate (boxes drawn while pending, a tick kept across a re-run of the cell).

Each test starts its own JupyterLab on a throwaway workspace, opens a migration from the
repo, clicks Run → Run All Cells, and reads what the page rendered. The kernel starts the
embedded local server itself, exactly as it does for an operator; the CLI is then run as
a separate process to read the ledger the notebook wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_harness as harness
import pytest
from appwrite.services.tables_db import TablesDB
from sdk_support import sdk_client_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not harness.CHROMIUM.exists(),
        reason=f"{harness.CHROMIUM} is absent (./dev test installs Debian's chromium package)",
    ),
]

SKIPPED_DOWN = "skipped: down step (this run's direction is 'up')"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return harness.make_workspace(tmp_path / "ws")


@pytest.fixture
def page() -> Iterator[Any]:
    with harness.chromium_page() as page:
        yield page


def _status_row(workspace: Path, version: str) -> str:
    result = harness.cli(workspace, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if f" {version} " in f" {line} "]
    assert rows, f"no {version} row in `workbook status`:\n{result.stdout}"
    return rows[0]


def _run_all(page: Any, lab: harness.Lab, relpath: str, shot: Path) -> list[harness.RenderedCell]:
    harness.open_notebook(page, lab, relpath)
    harness.run_all(page)
    harness.wait_until_finished(page)
    page.screenshot(path=str(shot))
    problems = harness.errors(page)
    assert not problems, "the run raised in JupyterLab:\n" + "\n".join(problems)
    return harness.cells(page)


def test_run_all_001_skips_down_cells_and_records_applied(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    notebook = workspace / "migrations" / "001_initial_schema.ipynb"
    sources = harness.code_sources(notebook)
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        shown = _run_all(
            page, lab, "migrations/001_initial_schema.ipynb", tmp_path / "001_run_all.png"
        )

        assert len(shown) == len(sources)
        for cell, source in zip(shown, sources, strict=True):
            assert cell.source.split("\n")[0] == source.split("\n")[0]
            assert cell.prompt.strip("[]:").isdigit(), f"cell did not run: {source[:60]!r}"
            if source.startswith("%%down"):
                assert [o.strip() for o in cell.outputs] == [SKIPPED_DOWN]
        assert sum(s.startswith("%%down") for s in sources) >= 1

        banner = page.locator(
            ".jp-OutputArea-output[data-mime-type='text/html'] b", has_text="WORKBOOK · LOCAL"
        )
        assert banner.count() == 1 and banner.is_visible()
        connect = next(c for c, s in zip(shown, sources, strict=True) if "workbook.connect(" in s)
        assert any("direction" in h and "<table" in h for h in connect.html_outputs)

        created = next(c for c, s in zip(shown, sources, strict=True) if "create_table" in s)
        columns_table = page.locator(
            ".jp-OutputArea-output[data-mime-type='text/html'] table", has_text="published_at"
        )
        assert columns_table.count() >= 1
        assert any("<table" in h and "slug" in h for h in created.html_outputs)

        done = shown[-1]
        assert "001 up: recorded as applied on 'local'" in " ".join(done.outputs)
        assert any("Schema after" in h and "blog_posts" in h for h in done.html_outputs)

        row = _status_row(workspace, "001")
    assert "applied" in row and harness.OPERATOR in row, row
    mirror = json.loads((workspace / "history" / "local" / "applied.json").read_text())
    assert [(r["version"], r["appliedBy"]) for r in mirror["applied"]] == [
        ("001", harness.OPERATOR)
    ]


LIVE_KEY_ENV = "LIVE_APPWRITE_KEY"


@pytest.fixture
def live(tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Environment 'live' on a server the test reads through the SDK: not `local`, so 003's
    gate is enforced there as in production. Its key reaches the CLI and JupyterLab's kernels
    through the environment, as an operator's would."""
    from workbook.local.server import start_local_server

    server = start_local_server(tmp_path / "live.db", mode="thread")
    try:
        TablesDB(sdk_client_for(server)).create("main", "main")
        with (workspace / "workbook.toml").open("a") as toml:
            toml.write(
                f'\n[environments.live]\nendpoint = "{server.endpoint}"\n'
                f'project = "{server.project_id}"\ndatabase = "main"\nkey_env = "{LIVE_KEY_ENV}"\n'
            )
        monkeypatch.setenv(LIVE_KEY_ENV, server.api_key)
        yield server
    finally:
        server.stop()


def _target_live(notebook: Path) -> None:
    """The operator's copy of 003 targets 'live' (its parameters cell, edited as by hand)."""
    nb = json.loads(notebook.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    source = "".join(cell["source"]).replace('environment = "local"', 'environment = "live"')
    cell["source"] = source
    notebook.write_text(json.dumps(nb, indent=1) + "\n")


def _columns(tables: TablesDB) -> set[str]:
    return {c.key for c in tables.list_columns("main", "blog_posts").columns}


def _ledger_003(tables: TablesDB) -> dict[str, Any]:
    from appwrite.query import Query

    from workbook.core.ledger import LEDGER_TABLE, row_json

    [row] = tables.list_rows("main", LEDGER_TABLE, [Query.equal("version", "003")]).rows
    return row_json(row)


def test_checklist_gate_of_003_draws_boxes_while_pending_and_a_tick_survives_a_re_run(
    workspace: Path, page: Any, tmp_path: Path, live: Any
) -> None:
    tables = TablesDB(sdk_client_for(live))
    # 003 arrives after 001–002 are applied, as a new migration does: the CLI applies
    # what the catalog has (while JupyterLab starts), then the operator opens 003.
    later = tmp_path / "003_rename_author.ipynb"
    (workspace / "migrations" / later.name).rename(later)
    up = harness.cli_background(workspace, "up", "--env", "live")
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        out, err = up.communicate(timeout=240)
        assert up.returncode == 0, out + err
        assert "002" in out and "applied" in out, out
        later.rename(workspace / "migrations" / later.name)
        _target_live(workspace / "migrations" / later.name)

        harness.open_notebook(page, lab, "migrations/003_rename_author.ipynb")
        harness.run_all(page)
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "003_gate_pending.png"))

        # Run All stopped at the gate, with its checkboxes drawn; the rename never ran
        stopped = " ".join(harness.errors(page))
        assert "not done: app_release" in stopped and "tick their boxes" in stopped, stopped
        gate = page.locator(".jp-CodeCell", has_text="workbook.Checklist(")
        rename = page.locator(".jp-CodeCell", has_text='"blog_posts", "author", "author_name"')
        assert rename.locator(".jp-InputPrompt").text_content().strip() == "[ ]:"
        assert "author" in _columns(tables) and "author_name" not in _columns(tables)
        assert _ledger_003(tables)["state"] == "running"  # open, waiting for the operator

        checklist = gate.locator(".widget-vbox", has_text="Checklist: Before author is renamed")
        assert checklist.count() == 1 and checklist.is_visible()
        boxes = checklist.locator(".widget-checkbox")
        assert boxes.count() == 2
        free = boxes.filter(has_text="name_free:").locator("input[type=checkbox]")
        release = boxes.filter(has_text="app_release:").locator("input[type=checkbox]")
        assert free.is_checked() and free.is_disabled()  # its check proved it
        assert not release.is_checked() and release.is_enabled()  # only a person can
        status = checklist.locator(".widget-html-content").last
        assert status.text_content() == "1/2 done · waiting for: app_release"
        checklist.screenshot(path=str(tmp_path / "003_checklist_pending.png"))

        release.check()  # the operator ticks the step: the kernel hears it over the comm
        page.wait_for_function(
            "el => el.textContent.startsWith('2/2 done · all steps done')",
            arg=status.element_handle(),
        )
        assert "run this cell again" in status.text_content()
        ticked = json.loads(_ledger_003(tables)["checklist"])  # recorded: who and when
        assert ticked["app_release"]["by"] == harness.OPERATOR, ticked
        assert ticked["app_release"]["how"] == "ticked" and ticked["app_release"]["at"]
        checklist.screenshot(path=str(tmp_path / "003_checklist_ticked.png"))

        # re-run the gate cell and those below it: the tick is read back, the run goes on
        gate.locator(".jp-InputPrompt").click()
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item[data-command='notebook:run-all-below']").click()
        page.locator(".jp-OutputArea-output", has_text="recorded as applied on 'live'").wait_for()
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "003_gate_passed.png"))
        assert not harness.errors(page), harness.errors(page)
        redrawn = gate.locator(".widget-vbox", has_text="Checklist: Before author is renamed")
        again = redrawn.locator(".widget-checkbox").filter(has_text="app_release:")
        assert again.locator("input[type=checkbox]").is_checked()
        assert f"ticked by {harness.OPERATOR} at " in again.text_content()  # read back
        assert "author_name" in _columns(tables) and "author" not in _columns(tables)
        assert _ledger_003(tables)["state"] == "applied"
