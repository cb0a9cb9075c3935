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
import httpx
import nbformat
import pytest
from appwrite.services.tables_db import TablesDB
from sdk_support import sdk_client_for

from workbook.local.server import LocalServer, start_local_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not harness.CHROMIUM.exists() and not os.environ.get("CI"),
        reason=f"{harness.CHROMIUM} is absent (./dev test installs Debian's chromium package)",
    ),
]

PROBE = "migrations/probe_save.ipynb"
MIGRATION = "migrations/001_initial_schema.ipynb"
PROD_KEY_ENV = "PROD_APPWRITE_KEY"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


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
    assert f"kernel knows {notebook}" in _outputs_text(code[0])  # the earlier cell, complete
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


# ------------------------------------------------------------------ a production run


@pytest.fixture
def prod(tmp_path: Path) -> Iterator[LocalServer]:
    """A target standing in for production: its own server, database "main", no tables."""
    server = start_local_server(tmp_path / "prod.db", mode="thread")
    TablesDB(sdk_client_for(server)).create("main", "main")
    server.clear_request_log()
    yield server
    server.stop()


def _add_prod(workspace: Path, server: LocalServer) -> None:
    """workbook.toml gains [environments.prod] (confirm = true); 001 targets it."""
    with (workspace / "workbook.toml").open("a") as toml:
        toml.write(
            "\n[environments.prod]\n"
            f'endpoint = "{server.endpoint}"\n'
            f'project = "{server.project_id}"\n'
            'database = "main"\n'
            f'key_env = "{PROD_KEY_ENV}"\n'
            "confirm = true\n"
        )
    notebook = workspace / MIGRATION
    nb = nbformat.read(notebook, as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'environment = "local"' in parameters.source
    parameters.source = parameters.source.replace('environment = "local"', 'environment = "prod"')
    nbformat.write(nb, notebook)


def _writes(server: LocalServer) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in server.request_log() if r["method"] in WRITES]


def _tables(server: LocalServer) -> list[str]:
    reply = httpx.get(
        f"{server.endpoint}/tablesdb/main/tables",
        headers={"X-Appwrite-Project": server.project_id, "X-Appwrite-Key": server.api_key},
        timeout=30,
    )
    reply.raise_for_status()
    return sorted(table["$id"] for table in reply.json()["tables"])


def _confirm_in_widget(page: Any, name: str, shot: Path) -> None:
    box = page.locator(".widget-vbox", has_text=f"This run changes environment '{name}'")
    assert box.count() == 1 and box.is_visible()
    assert "Nothing has been written yet" in (box.text_content() or "")
    box.locator("input[type=text]").fill(name)
    box.get_by_role("button", name="Confirm").click()
    status = box.locator(".widget-html-content").last
    page.wait_for_function(
        "el => el.textContent.startsWith('Confirmed')", arg=status.element_handle()
    )
    box.screenshot(path=str(shot))


def _run_all_until(page: Any, text: str) -> None:
    """Run All, then wait for ``text`` in an output: a plain "finished" check would see
    the previous run's error before the cells are queued again."""
    harness.run_all(page)
    page.wait_for_selector(f".jp-OutputArea-output:has-text({json.dumps(text)})")
    harness.wait_until_finished(page)


def test_jupyterlab_run_on_a_confirm_environment_keeps_the_promises_of_workbook_up(
    workspace: Path, page: Any, tmp_path: Path, prod: LocalServer
) -> None:
    _add_prod(workspace, prod)
    key = {PROD_KEY_ENV: prod.api_key}
    history = workspace / "history" / "prod"
    with harness.jupyterlab(workspace, tmp_path / "lab", extra_env=key) as lab:
        harness.open_notebook(page, lab, MIGRATION)
        harness.run_all(page)
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "prod_asks.png"))
        refused = " ".join(harness.errors(page))
        assert "environment 'prod' needs confirmation before it is changed" in refused, refused
        assert _writes(prod) == [] and _tables(prod) == []
        assert not history.exists(), sorted(history.rglob("*"))

        _confirm_in_widget(page, "prod", tmp_path / "prod_confirmation.png")
        assert _writes(prod) == []  # confirming alone changes nothing
        _run_all_until(page, "archived: history/prod/")
        page.screenshot(path=str(tmp_path / "prod_applied.png"))
        assert not harness.errors(page), harness.errors(page)
        shown = harness.cells(page)
        assert "recorded as applied on 'prod'" in " ".join(shown[-1].outputs)

    assert "blog_posts" in _tables(prod) and _writes(prod)
    backups = [p for p in (history / "backups").iterdir() if p.is_dir()]
    assert len(backups) == 1 and "before-001" in backups[0].name, backups

    archives = sorted(history.glob("*.ipynb"))
    assert len(archives) == 1, archives
    text = archives[0].read_text()
    assert prod.api_key not in text
    nb = json.loads(text)
    facts = nb["metadata"]["workbook"]
    assert facts["status"] == "applied" and facts["environment"] == "prod", facts
    assert facts["operator"] == harness.OPERATOR and facts["version"] == "001", facts
    assert archives[0].name.startswith(facts["run_id"]), (archives[0].name, facts)
    assert facts["outputs"] == "saved by JupyterLab at the end", facts
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    saved = [_outputs_text(c) for c in code]
    assert any("WORKBOOK · PROD" in out for out in saved)
    assert any("seeded 3 posts" in out for out in saved)
    assert "recorded as applied on 'prod'" in saved[-1]
    assert f"run {facts['run_id']} applied: saving the notebook" in saved[-1]
    counts = [c["execution_count"] for c in code if c["outputs"]]
    assert all(counts) and counts == sorted(counts), counts  # every cell that ran, in order

    listed = harness.cli(workspace, "history", "--env", "prod", "--html", extra_env=key)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert facts["run_id"] in listed.stdout and "applied" in listed.stdout, listed.stdout
    site = (workspace / "history" / "index.html").read_text()
    assert facts["run_id"] in site
    status = harness.cli(workspace, "status", "--env", "prod", extra_env=key)
    assert status.returncode == 0, status.stdout + status.stderr
    row = next(line for line in status.stdout.splitlines() if " 001 " in f" {line} ")
    assert "applied" in row and harness.OPERATOR in row, status.stdout


def test_a_failed_jupyterlab_run_is_archived_with_its_traceback(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    notebook = workspace / MIGRATION
    nb = nbformat.read(notebook, as_version=4)
    seed = next(c for c in nb.cells if "seeded" in c.source)
    seed.source += "\nraise RuntimeError('the seed step broke on purpose')"
    nbformat.write(nb, notebook)
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        harness.open_notebook(page, lab, MIGRATION)
        harness.run_all(page)
        page.wait_for_selector(".jp-OutputArea-output:has-text('archived: history/local/')")
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "failed.png"))
        status = harness.cli(workspace, "status")

    archives = sorted((workspace / "history" / "local").glob("*.ipynb"))
    assert len(archives) == 1, archives
    saved = json.loads(archives[0].read_text())
    facts = saved["metadata"]["workbook"]
    assert facts["status"] == "failed", facts
    assert "the seed step broke on purpose" in (facts["error"] or ""), facts
    broken = next(c for c in saved["cells"] if "broke on purpose" in "".join(c["source"]))
    kinds = [o["output_type"] for o in broken["outputs"]]
    assert "error" in kinds, broken["outputs"]  # the traceback JupyterLab showed
    assert "saving the notebook for its archive" in _outputs_text(broken)
    row = next(line for line in status.stdout.splitlines() if " 001 " in f" {line} ")
    assert "failed" in row, status.stdout


def test_without_ipylab_in_jupyterlab_the_archive_says_its_outputs_are_incomplete(
    workspace: Path, page: Any, tmp_path: Path
) -> None:
    # A JupyterLab whose ipylab extension is disabled never saves when asked: the run
    # still leaves an archive, the last saved copy, and both it and the cell say so.
    labconfig = tmp_path / "lab" / "config" / "labconfig" / "page_config.json"
    labconfig.parent.mkdir(parents=True)
    labconfig.write_text(json.dumps({"disabledExtensions": {"ipylab": True}}))
    with harness.jupyterlab(workspace, tmp_path / "lab") as lab:
        harness.open_notebook(page, lab, MIGRATION)
        harness.run_all(page)
        page.wait_for_selector(
            ".jp-OutputArea-output:has-text('archived with the outputs')", timeout=90_000
        )
        harness.wait_until_finished(page)
        page.screenshot(path=str(tmp_path / "no_ipylab.png"))
        last = " ".join(harness.cells(page)[-1].outputs)

    assert "not saved: JupyterLab did not save 001_initial_schema.ipynb within" in last, last
    assert "archived with the outputs JupyterLab saved last (incomplete)" in last, last
    archives = sorted((workspace / "history" / "local").glob("*.ipynb"))
    assert len(archives) == 1, archives
    saved = json.loads(archives[0].read_text())
    facts = saved["metadata"]["workbook"]
    assert facts["status"] == "applied", facts
    assert facts["outputs"].startswith("incomplete: JupyterLab did not save"), facts
    note = saved["cells"][0]
    assert note["cell_type"] == "markdown" and "Outputs incomplete" in note["source"], note
