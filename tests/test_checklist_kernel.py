"""A checklist in a real kernel run the way `workbook up` runs it (WORKBOOK_BATCH=1): the
executed notebook keeps the record of what was confirmed, or the one-line refusal."""

from __future__ import annotations

import os
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

SETUP = """
from workbook.runtime.checklist import Checklist, Step
def key_rotated():
    return True
steps = [Step("store", "Update the key in the store console"),
         Step("rotate", "Rotate the key", key_rotated)]
"""


def _run(confirmed: str) -> tuple[Any, BaseException | None]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(f"confirmed = {confirmed!r}"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("Checklist('Key rotation', steps, dry_run=False).require()"),
    ]
    env = {**os.environ, "WORKBOOK_BATCH": "1"}
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    client.km = client.create_kernel_manager()
    error: BaseException | None = None
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        error = exc
    return nb, error


@pytest.mark.timeout(120)
def test_batch_kernel_records_confirmation_and_refuses_missing_one() -> None:
    nb, error = _run("store")
    assert error is None
    outputs = nb.cells[-1].outputs
    text = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "[x] store" in text and "confirmed by parameter" in text
    assert "check key_rotated passed" in text
    assert any("text/html" in o.get("data", {}) for o in outputs)

    nb, error = _run("")
    assert error is not None
    assert "not done: store" in str(error) and "-p confirmed=store" in str(error)
    text = "".join(o.get("data", {}).get("text/plain", "") for o in nb.cells[-1].outputs)
    assert "[ ] store" in text


@pytest.mark.timeout(120)
def test_interactive_display_keeps_the_final_state_in_the_saved_output() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell(
            "checklist = Checklist('Key rotation', steps, dry_run=False, mode='interactive')\n"
            "checklist"
        ),
        nbformat.v4.new_code_cell("checklist.confirm('store')"),
    ]
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    client.execute()
    [output] = nb.cells[1].outputs
    assert "application/vnd.jupyter.widget-view+json" in output["data"]
    assert "[x] store" in output["data"]["text/plain"]
    assert "ticked by hand" in output["data"]["text/plain"]
    assert "2/2 done" in output["data"]["text/html"]
