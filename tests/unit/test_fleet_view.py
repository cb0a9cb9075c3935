"""What `up --fleet` shows: a live table in a terminal, plain lines without one, and the
summary (terminal and HTML page in the history site). Progress events are what the
workers send; the board and the page are the real ones."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from workbook.command import fleet_view
from workbook.command.fleet import FleetReport, Progress, TenantRun
from workbook.command.fleet_page import pages, write_page
from workbook.command.report import write_index


def report(history: Path) -> FleetReport:
    run = {
        "version": "001",
        "migration": "001_add",
        "status": "applied",
        "ok": True,
        "seconds": 1.2,
        "error": None,
        "archive": "history/acme/20261202T000000-001-up-aaaa_add.ipynb",
    }
    tenants = [
        TenantRun("acme", runs=[run], pending=1, seconds=2.0),
        TenantRun("beta", error="the variable BETA_KEY is not set (export it)", seconds=0.1),
        TenantRun("gamma", skipped=True),
    ]
    return FleetReport("saas", tenants, 3.0)


def test_a_terminal_shows_a_live_table_of_tenant_migration_state_and_time() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    board = fleet_view.Board(console, "saas")
    with board.shown():
        for p in (
            Progress("acme", "queued"),
            Progress("beta", "queued"),
            Progress("acme", "running", 1, 3, "002", 4.0),
            Progress("beta", "failed", 0, 3, "001", 1.5),
        ):
            board.update(p)
        table = board.table()
    assert [c.header for c in table.columns] == ["tenant", "migration", "state", "time"]
    assert list(table.columns[0].cells) == ["acme", "beta"]  # running ones first
    assert list(table.columns[1].cells) == ["1/3 (002)", "0/3 (001)"]
    assert "failed" in list(table.columns[2].cells)[1] and list(table.columns[3].cells)[1] == "1.5s"
    shown = screen.getvalue()
    assert "acme" in shown and "1/3 (002)" in shown


def test_without_a_terminal_a_line_per_finished_tenant_and_counts() -> None:
    screen = io.StringIO()
    board = fleet_view.Board(Console(file=screen, width=200), "saas")
    with board.shown():
        board.update(Progress("acme", "queued"))
        board.update(Progress("acme", "running", 0, 2, "001", 0.0))
        board.update(Progress("acme", "ok", 2, 2, "002", 3.25))
        board.update(Progress("acme", "running", 1, 2, "002", 2.0))  # late: the result stands
    lines = screen.getvalue().splitlines()
    assert lines[0] == "fleet saas: 1 queued (0s)"
    assert "ok       acme 2/2 3.2s" in lines
    assert board.rows["acme"].state == "ok"


def test_the_summary_names_failures_and_the_page_links_each_archive(tmp_path: Path) -> None:
    history = tmp_path / "history"
    r = report(history)
    r.page = write_page(history, r)
    out, err = io.StringIO(), io.StringIO()
    fleet_view.print_summary(Console(file=out, width=200), Console(file=err, width=200), r)
    assert "fleet saas: 1 applied, 1 failed, 0 awaiting, 0 stopped, 1 skipped; 1 runs" in (
        out.getvalue()
    )
    assert "acme 001 applied: history/acme/" in out.getvalue()
    assert "failed: beta: the variable BETA_KEY is not set" in err.getvalue()
    html = r.page.read_text()
    assert "1 applied, 1 failed, 0 awaiting, 0 stopped, 1 skipped" in html
    assert "href='../acme/20261202T000000-001-up-aaaa_add.ipynb'" in html
    assert "BETA_KEY" in html and "data-state='skipped'" in html
    assert pages(history) == [r.page]
    assert f"_fleets/{r.page.name}" in write_index(history, []).read_text()


def test_a_tenant_stopped_at_a_checklist_gate_is_awaiting_with_its_confirm_command(
    tmp_path: Path,
) -> None:
    confirm = "workbook up --env acme -p confirmed=notify"
    runs = [
        {
            "version": "001",
            "migration": "001_add",
            "status": "applied",
            "ok": True,
            "seconds": 1.0,
            "error": None,
            "archive": "history/acme/20261202T000000-001-up-aaaa_add.ipynb",
        },
        {
            "version": "002",
            "migration": "002_rename",
            "status": "awaiting",
            "ok": False,
            "seconds": 1.0,
            "error": f"checklist 'before' awaits: notify (tell support); confirm with `{confirm}`",
            "archive": "history/acme/20261202T000001-002-up-bbbb_rename.ipynb",
        },
    ]
    acme = TenantRun("acme", runs=runs, pending=2, seconds=2.0)
    beta = TenantRun("beta", runs=[{**runs[1], "status": "failed", "error": "boom"}], pending=1)
    assert acme.state == "awaiting" and not acme.ok
    assert beta.state == "failed"  # a failed run stays a failure
    r = FleetReport("saas", [acme], 2.0)
    assert [t.environment for t in r.awaiting] == ["acme"] and r.failed == []
    assert r.to_json()["tenants"][0]["state"] == "awaiting"
    r.page = write_page(tmp_path / "history", r)
    out, err = io.StringIO(), io.StringIO()
    fleet_view.print_summary(Console(file=out, width=200), Console(file=err, width=200), r)
    assert "0 failed, 1 awaiting" in out.getvalue()
    assert "failed:" not in err.getvalue()
    assert "awaiting: acme 002 stopped at its checklist gate" in err.getvalue()
    assert confirm in err.getvalue()
    html = r.page.read_text()
    assert "0 failed, 1 awaiting" in html and "data-state='awaiting'" in html
    board = fleet_view.Board(Console(file=io.StringIO(), width=200), "saas")
    board.update(Progress("acme", "awaiting", 1, 2, "002", 2.0))
    board.update(Progress("acme", "running", 1, 2, "002", 2.0))  # late: the result stands
    assert board.rows["acme"].state == "awaiting"
