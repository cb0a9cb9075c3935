"""A migration run by hand with plain `papermill in.ipynb out.ipynb` keeps the promises of
`workbook up`: its run is in the ledger, and its output — every cell, the last included —
is archived under history/<env>/, annotated and redacted, and listed by `workbook history`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
from cli_support import Workspace

SECRET = "tok_" + "5f" * 20


def test_a_plain_papermill_run_is_recorded_and_archived(workspace: Workspace) -> None:
    ws = workspace
    assert ws.run("up").code == 0  # 001–003 first, by the runner
    assert ws.run("create", "--name", "print_a_token").code == 0
    path = ws.root / "migrations/004_print_a_token.ipynb"
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if c.source.startswith("%%up"))
    up_cell.source = '%%up\nimport os\nprint("token:", os.environ["DEMO_API_TOKEN"])'
    nbformat.write(nb, path)

    papermill = Path(sys.executable).with_name("papermill")
    (ws.root / "out").mkdir()
    env = {**ws.env, "WORKBOOK_WORKSPACE": str(ws.root), "DEMO_API_TOKEN": SECRET}
    ran = subprocess.run(
        [
            str(papermill),
            "migrations/004_print_a_token.ipynb",
            "out/004_by_hand.ipynb",
            "-p",
            "environment",
            "local",
        ],
        cwd=ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]

    archives = sorted((ws.root / "history/local").glob("*-004-up-*_print_a_token.ipynb"))
    assert len(archives) == 1, list((ws.root / "history/local").iterdir())
    text = archives[0].read_text(encoding="utf-8")
    facts = json.loads(text)["metadata"]["workbook"]
    assert facts["status"] == "applied" and facts["version"] == "004"
    assert facts["operator"] == "test-operator"
    assert "token: [redacted]" in text and SECRET not in text
    assert "004 up: recorded as applied on 'local'" in text  # the last cell's output too

    status = ws.run("status")
    line = next(li for li in status.stdout.splitlines() if " 004 " in li)
    assert "applied" in line and archives[0].name[:20] in line
    listed = ws.run("history", "--env", "local")
    assert "004_print_a_token" in listed.stdout and "applied" in listed.stdout
