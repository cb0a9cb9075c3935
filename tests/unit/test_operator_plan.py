"""The plan of a dry run as the terminal shows it (fixed-width console): one row per step
with table, key and effect; destructive steps marked; read back from the state file the
kernel leaves and from the archive's metadata."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from rich.console import Console

from workbook.command import plan_view
from workbook.runtime.dryrun import NO_OP, Plan

STEPS = Plan()
STEPS.add("add_column", "blog_posts.views", {"type": "integer", "default": 0})
STEPS.add("rename_column", "blog_posts.author", {"new_key": "author_name"})
STEPS.add("delete_column", "blog_posts.legacy")
STEPS.add("add_index", "blog_posts.by_views", {"reason": "exists"}, effect=NO_OP)


def _render(width: int) -> str:
    console = Console(file=StringIO(), width=width, color_system=None)
    console.print(plan_view.plan_table(STEPS.to_records()))
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_each_step_is_a_row_and_deletes_are_destructive() -> None:
    for width in (110, 160):
        text = _render(width)
        rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
        assert "blog_posts" in rows["add_column"] and "views" in rows["add_column"]
        assert "new_key=author_name" in rows["rename_column"]
        assert "yes" in rows["delete_column"] and "yes" not in rows["add_column"]
        assert "no-op" in rows["add_index"]
    assert "3 change(s), 1 already done" in plan_view.summary(STEPS.to_records())
    assert "1 destructive" in plan_view.summary(STEPS.to_records())


def test_the_plan_is_read_for_its_own_run_only(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"plan": {"run_id": "r1", "steps": STEPS.to_records()}}))
    assert plan_view.read_plan(state, "r1") == STEPS.to_records()
    assert plan_view.read_plan(state, "r2") is None  # a kernel that stopped early
    assert plan_view.read_plan(tmp_path / "none.json", "r1") is None
