"""Done when: a backfill of 20,000 rows shows progress in the terminal of a batch run.

``workbook up`` runs the migration in a kernel whose progress lines reach the operator's
terminal (the kernel's stderr is the runner's); the run's output is rendered on a fixed
110-column console and kept as an SVG beside the test (tmp_path)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from appwrite.services.tables_db import TablesDB
from cli_support import TEST_KEY_ENV, Workspace, add_environment
from progress_support import ROWS, backfill_migrations, seed
from rich.console import Console
from rich.text import Text

from workbook.local.server import LocalServer


def test_a_20k_row_backfill_shows_progress_in_the_terminal(
    tmp_path: Path, local_server: LocalServer, tables: TablesDB, database_id: str
) -> None:
    seed(tables, database_id)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "workbook.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env.pop(TEST_KEY_ENV, None)
    ws = Workspace(root, {**env, "WORKBOOK_USER": "test-operator", "COLUMNS": "110"})
    add_environment(ws, local_server, database=database_id)
    backfill_migrations(root, "test")
    stamped = ws.run("stamp", "001", "--env", "test")  # posts is there already: adopted
    assert stamped.code == 0, stamped.output

    # --no-backup: the backup's own lines are tested in tests/unit (20k rows would take 10 s)
    interval = {"WORKBOOK_PROGRESS_INTERVAL": "0.5"}
    run = ws.run("up", "--env", "test", "--no-backup", extra_env=interval)
    assert run.code == 0, run.output

    console = Console(width=110, record=True, force_terminal=True, file=io.StringIO())
    console.print(Text(run.stdout + run.stderr))
    shown = console.export_text(clear=False)
    (tmp_path / "terminal_20k_backfill.svg").write_text(console.export_svg(title="workbook up"))
    assert "[1/1] up 002 Backfill posts …" in shown
    counts = [
        int(m[1]) for m in re.finditer(r"^backfill posts: (\d+) rows · \d+ rows/s$", shown, re.M)
    ]
    assert counts and counts == sorted(counts) and counts[-1] < ROWS, shown  # it moved
    assert re.search(rf"^done: backfill posts: {ROWS} rows · \d+ rows/s in [\d.]+s$", shown, re.M)
    assert "002 Backfill posts up: applied in" in shown
