"""``%workbook down`` in a real kernel: the next Run All rolls the migration back without
editing its parameters cell, with the confirmation a ``confirm = true`` environment asks
for (the CLI's ``workbook down`` asks the same), and a refused run keeps the choice."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
MIGRATION = "001_initial_schema.ipynb"
CONFIRM_ON = "[environments.local]\nconfirm = true\n"


def _text(cell: Any) -> str:
    parts = []
    for out in cell.outputs:
        if out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
        parts.append(out.get("data", {}).get("text/html", ""))
    return "\n".join(parts)


@pytest.mark.timeout(240)
def test_workbook_down_rolls_back_on_the_next_run_all_with_the_cli_confirmation(
    tmp_path: Path,
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copytree(REPO / "migrations", ws / "migrations")
    (ws / "workbook.toml").write_text("")
    migration = nbformat.read(ws / "migrations" / MIGRATION, as_version=4)
    code = [c for c in migration.cells if c.cell_type == "code"]
    parameters, connect = code[0], code[1]
    assert 'direction = "up"' in parameters.source

    def run_all() -> list[Any]:
        return [nbformat.v4.new_code_cell(c.source) for c in code]

    def cell(source: str) -> Any:
        return nbformat.v4.new_code_cell(source)

    toml = json.dumps(str(ws / "workbook.toml"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        *run_all(),  # applied, as the operator ran it first
        cell(f"open({toml}, 'w').write({CONFIRM_ON!r})"),  # the environment is guarded now
        cell("%workbook down"),
        cell(parameters.source),
        cell(connect.source),  # refused until confirmed: nothing is rolled back
        cell(f"open({toml}, 'w').write('')"),
        *run_all(),  # Run All again, parameters cell untouched
        cell("print('direction is', direction)"),
        cell("%workbook"),
    ]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")},
        "WORKBOOK_WORKSPACE": str(ws),
        "WORKBOOK_USER": "magic-test",
    }
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True)
    client.execute(env=env, cwd=str(ws))
    n = len(code)
    first, after = nb.cells[:n], nb.cells[n:]
    assert "001 up: recorded as applied" in _text(first[-1]), _text(first[-1])

    announced = _text(after[1])
    assert "the next run of this notebook rolls it back" in announced
    refused = _text(after[3])
    assert "needs confirmation" in refused, refused
    assert "workbook down --env local --yes" in refused  # the CLI command of this run
    second = after[5 : 5 + n]
    banner = _text(second[1])
    assert "DOWN" in banner, banner
    ups = [c for c, src in zip(second, code, strict=True) if src.source.startswith("%%up")]
    assert ups and all("skipped: up step (this run's direction is 'down')" in _text(c) for c in ups)
    assert "001 down: recorded" in _text(second[-1]), _text(second[-1])
    assert "direction is down" in _text(after[-2])
    assert "parameters cell's" in _text(after[-1])  # the choice was used up by the run
    mirror = json.loads((ws / "history" / "local" / "applied.json").read_text())
    assert mirror["applied"] == []
