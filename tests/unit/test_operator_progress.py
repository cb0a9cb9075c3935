"""Progress of a backfill: plain periodic lines with counts and rate when the kernel
runs unattended (they reach the runner's terminal through the kernel's stderr), a tqdm
widget bar in a notebook's kernel."""

from __future__ import annotations

from io import StringIO

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from workbook.runtime import progress
from workbook.runtime.ops import Ops

ROWS = 4_000  # 20k shows the same lines; 4k keeps the suite inside its time budget


def test_plain_lines_count_and_give_a_rate() -> None:
    out = StringIO()
    with progress.Progress("backfill posts", "rows", total=4, stream=out, interval=0) as p:
        for _ in range(4):
            p.update()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("backfill posts: 1/4 rows (25%) · ")
    assert lines[-1].startswith("done: backfill posts: 4/4 rows (100%)") and "rows/s" in lines[-1]


def test_a_backfill_shows_progress_in_batch(
    client: Client, database_id: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    ops = Ops(TablesDB(client), database_id, poll_interval=0.01)
    ops.create_table("posts", columns=[{"key": "n", "type": "integer"}])
    for start in range(0, ROWS, 100):
        rows = [{"$id": f"r{i}", "n": i} for i in range(start, start + 100)]
        ops.tables.create_rows(database_id, "posts", rows)
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    monkeypatch.setattr(progress, "INTERVAL", 0.2)
    changed = ops.backfill("posts", lambda row: {"n": row["n"] + 1}, batch_size=100)
    assert changed == ROWS
    lines = [li for li in capfd.readouterr().err.splitlines() if "backfill posts" in li]
    assert len(lines) >= 2 and lines[-1].startswith(f"done: backfill posts: {ROWS} rows"), lines
    assert all("rows/s" in li for li in lines)
