"""A run stepped through in JupyterLab keeps the promises of `workbook up`, in real Chromium.

The kernel cannot see the outputs JupyterLab shows, so the archive of an interactive run
depends on the kernel asking JupyterLab to save the notebook (ipylab) and finding the
saved file on disk; an environment marked ``confirm = true`` depends on a widget the
operator types its name into. These tests drive both the way an operator would: Run All
from the menu, typing and clicking in the page, and reading the file JupyterLab wrote.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_harness as harness
import nbformat
import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not harness.CHROMIUM.exists() and not os.environ.get("CI"),
        reason=f"{harness.CHROMIUM} is absent (./dev test installs Debian's chromium package)",
    ),
]

PROBE = "migrations/probe_save.ipynb"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return harness.make_workspace(tmp_path / "ws")


@pytest.fixture
def page() -> Iterator[Any]:
    with harness.chromium_page() as page:
        yield page


def _write_notebook(path: Path, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def _outputs_text(cell: dict[str, Any]) -> str:
    """Every text an output of a saved cell carries (streams, plain and HTML data)."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        for mime in ("text/plain", "text/html"):
            parts.append("".join(output.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def test_kernel_saves_its_notebook_through_jupyterlab(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    notebook = workspace / PROBE
    _write_notebook(
        notebook,
        [
            "from workbook.runtime import frontend\n"
            "print('kernel knows', frontend.notebook_path())\n"
            "print('can save', frontend.can_save(), frontend.why_not_save())",
            "import uuid\n"
            "from IPython.display import HTML, display\n"
            "marker = 'marker-' + uuid.uuid4().hex\n"
            "print('shown before the save')\n"
            "display(HTML(f'<b>{marker}</b>'))\n"
            "saved = frontend.save_notebook(marker, timeout=30)\n"
            "print('save result', saved)",
        ],
    )
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        harness.open_notebook(page, lab, PROBE)
        harness.run_all(page)
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "probe_save.png"))
        problems = harness.errors(page)
        assert not problems, "the probe raised in JupyterLab:\n" + "\n".join(problems)
        shown = harness.cells(page)

    first, second = (" ".join(cell.outputs) for cell in shown)
    assert f"kernel knows {notebook}" in first, first
    assert "can save True None" in first, first
    assert f"save result Saved(path=PosixPath('{notebook}'), reason=''" in second, second

    saved = json.loads(notebook.read_text())
    code = [c for c in saved["cells"] if c["cell_type"] == "code"]
    assert f"kernel knows {notebook}" in _outputs_text(code[0])
    assert code[0]["execution_count"] is not None  # the earlier cell, complete
    last = _outputs_text(code[1])
    marker = next(w for w in second.split() if w.startswith("marker-"))
    assert "shown before the save" in last and marker in last
    assert "save result" not in last  # printed after the save: only the page has it


def test_save_reaches_the_notebook_when_another_tab_is_active(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    # The operator may look at another document while the last cell runs: the save must
    # still reach the notebook whose kernel asks (JupyterLab's plain "save" would not).
    notebook = workspace / PROBE
    other = workspace / "migrations" / "other.ipynb"
    _write_notebook(other, ["1 + 1"])
    _write_notebook(
        notebook,
        [
            "import time, uuid\n"
            "from ipylab import JupyterFrontEnd\n"
            "from workbook.runtime import frontend\n"
            "lab = JupyterFrontEnd()\n"
            "lab.commands.execute('docmanager:open', {'path': 'migrations/other.ipynb'})\n"
            "time.sleep(3)\n"
            "marker = 'marker-' + uuid.uuid4().hex\n"
            "print(marker)\n"
            "print('save result', frontend.save_notebook(marker, timeout=30))",
        ],
    )
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        harness.open_notebook(page, lab, PROBE)
        harness.run_all(page)
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget?.context?.path === "
            "'migrations/other.ipynb'"
        )
        page.wait_for_selector(
            ".jp-OutputArea-output:has-text('save result')", state="attached", timeout=60_000
        )
        page.screenshot(path=str(tmp_path / "other_tab_active.png"))
        outputs = page.evaluate(
            "() => window.jupyterapp.shell.widgets('main')"
            ".find(w => w.context?.path === 'migrations/probe_save.ipynb')"
            ".content.model.cells.get(0).outputs.toJSON()"
        )

    shown = json.dumps(outputs)
    assert f"Saved(path=PosixPath('{notebook}'), reason=''" in shown, shown
    marker = re.search(r"marker-[0-9a-f]{32}", shown)
    assert marker and marker.group() in notebook.read_text()


def test_confirmation_widget_gates_a_cell_until_the_name_is_typed(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    _write_notebook(
        workspace / PROBE,
        [
            "from workbook.runtime.confirm import require_confirmation\n"
            "require_confirmation('prod', 'prod:probe:up', 'with migration probe (up)')",
            "print('went on')",
        ],
    )
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        harness.open_notebook(page, lab, PROBE)
        harness.run_all(page)
        harness.wait_until_finished(page)
        refused = " ".join(harness.errors(page))
        assert "environment 'prod' needs confirmation before it is changed" in refused
        assert "type its name in the box above and press Confirm" in refused
        assert "went on" not in " ".join(" ".join(c.outputs) for c in harness.cells(page))

        box = page.locator(".widget-vbox", has_text="This run changes environment 'prod'")
        assert box.count() == 1 and box.is_visible()
        status = box.locator(".widget-html-content").last
        name = box.locator("input[type=text]")
        name.fill("production")
        box.get_by_role("button", name="Confirm").click()
        page.wait_for_function(
            "el => el.textContent.includes('nothing confirmed')", arg=status.element_handle()
        )
        name.fill("prod")
        box.get_by_role("button", name="Confirm").click()
        page.wait_for_function(
            "el => el.textContent.startsWith('Confirmed')", arg=status.element_handle()
        )
        box.screenshot(path=str(tmp_path / "confirmation.png"))

        harness.run_all(page)
        page.wait_for_selector(".jp-OutputArea-output:has-text('went on')")
        harness.wait_until_finished(page)
        assert not harness.errors(page)
