"""The operator's view with real kernels: targets (``up --to``, ``--steps``, ``down --to``)
in one command each, and the plan of a dry run in the terminal."""

from __future__ import annotations

import json

from cli_support import Workspace


def test_up_to_steps_and_down_to_in_one_command_each(workspace: Workspace) -> None:
    ws = workspace
    up = ws.run("up", "--to", "002")
    assert up.code == 0, up.output
    assert up.output.count("up: applied in") == 2 and "003" not in up.stdout
    assert up.stdout.count("  backup: history/local/backups/") == 1, up.stdout  # per sequence
    first = json.loads(sorted((ws.root / "history/local").glob("*001-up*.ipynb"))[0].read_text())
    assert first["metadata"]["workbook"]["backup"].startswith("history/local/backups/")
    plan = ws.run("up", "--dry-run", "--steps", "1", extra_env={"COLUMNS": "160"})
    assert plan.code == 0, plan.output
    assert "003 Rename author to author name up: dry-run" in plan.stdout
    assert "plan: " in plan.stdout and "blog_posts" in plan.stdout, plan.stdout
    assert "backup:" not in plan.stdout
    step = ws.run("up", "--steps", "1")
    assert step.code == 0, step.output
    assert "003 Rename author to author name up: applied" in step.stdout

    down = ws.run("down", "--to", "001")
    assert down.code == 0, down.output
    rolled = [li for li in down.stdout.splitlines() if "down: applied" in li]
    assert [li.split()[1] for li in rolled] == ["003", "002"], down.stdout  # newest first
    status = ws.run("status", "--check")
    assert status.code == 0, status.output
    rows = {li.split()[1]: li for li in status.stdout.splitlines() if li.startswith("│ 00")}
    assert "applied" in rows["001"]
    assert "pending" in rows["002"] and "rolled back at" in rows["002"]
    assert "pending" in rows["003"] and "rolled back at" in rows["003"]
