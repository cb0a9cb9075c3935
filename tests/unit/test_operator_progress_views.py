"""Progress of long steps beyond backfills: backups and restores in the CLI process (a rich
bar on a terminal, plain periodic lines in a log), waits for columns in the kernel, and
``[n/N]`` before each run of a sequence."""

from __future__ import annotations

import dataclasses
import time
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from appwrite.id import ID
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, new_workspace
from ops_fixtures import ops_server  # noqa: F401 - the fault-injecting server
from rich.console import Console
from sdk_support import sdk_client_for

from workbook.command.progress_view import RowsView, SequenceView
from workbook.core import progress as plain
from workbook.core.catalog import Migration
from workbook.errors import OperationFailed
from workbook.local.server import LocalServer
from workbook.runtime import progress
from workbook.runtime.ops import Ops


def test_plain_lines_sum_the_tables_of_a_backup() -> None:
    console = Console(file=StringIO(), width=110, force_terminal=False)
    with RowsView(console, "backup", interval=0) as view:
        view.on_progress("posts", 100)
        view.on_progress("posts", 200)
        view.on_progress("notes", 50)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [li.split(" · ")[0] for li in lines[:3]] == [
        "backup: 100 rows",
        "backup: 200 rows",
        "backup: 250 rows",
    ]
    assert lines[-1].startswith("done: backup: 250 rows · ") and "rows/s in " in lines[-1]


def test_a_terminal_gets_a_bar_with_count_and_rate(tmp_path: Path) -> None:
    console = Console(file=StringIO(), width=110, force_terminal=True, record=True)
    with RowsView(console, "restore", total=20_000) as view:
        for done in range(0, 20_001, 1000):
            view.on_progress("posts", done)
            time.sleep(0.001)
    shown = console.export_text()
    (tmp_path / "restore_bar.svg").write_text(console.export_svg(title="workbook restore"))
    last = "restore" + shown.rstrip().split("restore")[-1]  # the final redraw of the line
    assert "━" in last and "20000/20000 rows · " in last and "rows/s" in last, shown
    assert len(last) <= 110


def test_a_sequence_says_which_of_how_many_is_running() -> None:
    console = Console(file=StringIO(), width=110, force_terminal=False)
    todo = [_migration(v, f"Step {v}") for v in ("001", "002", "003")]
    view = SequenceView(console, "down")
    view.start(None, todo)  # type: ignore[arg-type]
    view.finished(_result(ok=True))
    view.finished(_result(ok=False))  # a failure stops the sequence: nothing more starts
    assert console.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "[1/3] down 001 Step 001 …",
        "[2/3] down 002 Step 002 …",
    ]


def test_a_long_wait_for_a_column_says_so_in_batch(
    ops_server: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture,
) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    monkeypatch.setattr(progress, "INTERVAL", 0.1)
    tables = TablesDB(sdk_client_for(ops_server))
    database_id = ID.unique()
    tables.create(database_id, "waits")
    ops = Ops(tables, database_id, poll_interval=0.02, timeout=0.6)
    ops.create_table("posts")
    ops_server.inject_fault(kind="column", key="views", outcome="processing")
    with pytest.raises(OperationFailed, match="not available after 0.6s"):
        ops.add_column("posts", "views", "integer")
    lines = [li for li in capfd.readouterr().err.splitlines() if "waiting for" in li]
    assert lines and all(li.startswith("waiting for column posts.views: ") for li in lines), lines
    assert lines[-1].endswith("of at most 0.6s")


@pytest.fixture
def ws(tmp_path: Path, local_server: LocalServer, tables: TablesDB, database_id: str) -> Any:
    tables.create_table(database_id, "posts", "Posts", columns=[{"key": "n", "type": "integer"}])
    for start in range(0, 250, 100):
        rows = [{"$id": f"p{i}", "n": i} for i in range(start, min(start + 100, 250))]
        tables.create_rows(database_id, "posts", rows)
    ws = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, local_server, database=database_id)
    return ws


def test_backup_and_restore_commands_count_rows_in_a_log(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plain, "INTERVAL", 0.0)  # every page a line
    taken = ws.run("backup", "--env", "test")
    assert taken.code == 0, taken.output
    lines = [li for li in taken.stderr.splitlines() if li.startswith(("backup:", "done: backup"))]
    assert lines[0].startswith("backup: 100 rows · "), taken.stderr
    assert lines[-1].startswith("done: backup: 250 rows · "), taken.stderr
    folder = next(li for li in taken.stdout.splitlines() if li.startswith("backup: "))[8:]
    restored = ws.run("restore", folder, "--env", "test", "--yes")
    assert restored.code == 0, restored.output
    lines = [li for li in restored.stderr.splitlines() if "restore: " in li]
    assert lines[-1].startswith("done: restore: 250/250 rows (100%) · "), restored.stderr


def _migration(version: str, description: str) -> Migration:
    path = Path(f"{version}.ipynb")
    return Migration(version, f"step_{version}", path, description, "0", parameters={})


def _result(ok: bool) -> Any:
    return SimpleNamespace(ok=ok)


def test_the_backup_before_a_sequence_counts_rows(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # backup = "all": the runner exports the database before the first run of a sequence;
    # `up`/`down` hand it the same view as `workbook backup` (the wiring, without a kernel)
    from workbook.command import commands
    from workbook.core.config import Workspace

    for name, value in ws.env.items():
        monkeypatch.setenv(name, value)
    console = Console(file=StringIO(), width=110, force_terminal=False)
    first = _migration("001", "Step 001")
    with commands.opened(Workspace(ws.root), "test", [first], adopted=False) as o:
        commands._sequence_backup(
            dataclasses.replace(o, environment=dataclasses.replace(o.environment, backup="all")),
            "lock-progress",
            first,
            True,
            lambda: RowsView(console, "backup before the sequence", interval=0),
        )
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("backup before the sequence: 100 rows · "), lines
    assert lines[-1].startswith("done: backup before the sequence: 250 rows · "), lines
