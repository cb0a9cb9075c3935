"""Start-up: commands that run no notebook load none of the heavy libraries at import.

``workbook --help``, ``workbook create`` and the import of the CLI must not pay for the
Appwrite SDK (its pydantic models), pandas, papermill, nbformat or IPython; each command
imports what it uses when it runs. Checked in a fresh interpreter (``sys.modules``), a
behavioural fact; the wall times are in ``benchmarks/startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("appwrite", "pandas", "papermill", "nbformat", "nbclient", "IPython", "jupyter_client")

PROBE = """
import json, sys
{setup}
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set(json.loads(sys.argv[1])))
print(json.dumps(loaded))
"""


def _loaded(setup: str, *args: str, cwd: Path | None = None) -> list[str]:
    code = PROBE.format(setup=setup)
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert _loaded("import workbook.command.cli") == []


def test_help_and_create_load_no_heavy_library(tmp_path: Path) -> None:
    run = (
        "from workbook.command.cli import app\n"
        "try:\n"
        "    app(args=sys.argv[2:], prog_name='workbook', standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    assert _loaded(run, "--help") == []
    (tmp_path / "workbook.toml").write_text("")
    assert _loaded(run, "create", "--name", "add_views", cwd=tmp_path) == []
    assert (tmp_path / "migrations" / "001_add_views.ipynb").is_file()


def test_status_loads_the_sdk_it_needs_but_not_the_notebook_runner() -> None:
    # `status` reads the ledger through the Appwrite SDK; papermill, nbformat and pandas
    # are for running notebooks and stay out
    loaded = _loaded("import workbook.command.cli_status, workbook.command.commands")
    assert "appwrite" in loaded
    assert not {"pandas", "papermill", "nbformat", "nbclient"} & set(loaded), loaded
