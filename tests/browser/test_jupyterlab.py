"""The operator's JupyterLab, in a real headless Chromium: Run All, the ledger, the checklist.

Each test starts its own JupyterLab on a throwaway workspace, opens a migration from the
repo, clicks Run → Run All Cells, and reads what the page rendered. The kernel starts the
embedded local server itself, exactly as it does for an operator; the CLI is then run as
a separate process to read the ledger the notebook wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_harness as harness
import pytest

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


def test_checklist_of_003_renders_as_checkboxes(workspace: Path, page: Any, tmp_path: Path) -> None:
    # 003 arrives after 001–002 are applied, as a new migration does: the CLI applies
    # what the catalog has (while JupyterLab starts), then the operator opens 003.
    later = tmp_path / "003_rename_author.ipynb"
    (workspace / "migrations" / later.name).rename(later)
    up = harness.cli_background(workspace, "up")
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        out, err = up.communicate(timeout=240)
        assert up.returncode == 0, out + err
        assert "002" in out and "applied" in out, out
        later.rename(workspace / "migrations" / later.name)

        _run_all(page, lab, "migrations/003_rename_author.ipynb", tmp_path / "003_run_all.png")

        checklist = page.locator(".widget-vbox", has_text="Checklist: Before clients rely on")
        assert checklist.count() == 1 and checklist.is_visible()
        boxes = checklist.locator(".widget-checkbox")
        assert boxes.count() == 2
        renamed = boxes.filter(has_text="column_renamed:").locator("input[type=checkbox]")
        release = boxes.filter(has_text="app_release:").locator("input[type=checkbox]")
        assert renamed.is_checked() and renamed.is_disabled()  # its check proved it
        assert not release.is_checked() and release.is_enabled()  # only a person can
        status = checklist.locator(".widget-html-content").last
        assert status.text_content() == "1/2 done · waiting for: app_release"
        assert checklist.get_by_role("button", name="Verify").is_visible()
        checklist.screenshot(path=str(tmp_path / "003_checklist.png"))

        release.check()  # the operator ticks the step: the kernel hears it over the comm
        page.wait_for_function(
            "el => el.textContent === '2/2 done · all steps done'", arg=status.element_handle()
        )
        checklist.screenshot(path=str(tmp_path / "003_checklist_ticked.png"))

        row = _status_row(workspace, "003")
    assert "applied" in row and harness.OPERATOR in row, row
