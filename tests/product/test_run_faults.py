"""Bounded waits and honest reporting: a request that never answers, a cell past its
timeout, 20% of requests failing, and Ctrl-C — the terminal, the archive and the ledger
always say the same thing, and no lock outlives its run."""

from __future__ import annotations

import re
import signal
import time

import nbformat
from cli_support import Workspace, add_environment
from protocol_support import (
    CONFIRMED,
    archive_facts,
    assert_converged,
    ledger_rows,
    process_gone,
    start,
    wait_for,
)
from sdk_support import tables_for

RESULT_LINE = re.compile(
    r"^[✓✗○] (\d{3}) .* (up|down): (\w+) in [\d.]+s · (\S+\.ipynb)$", re.MULTILINE
)
FAULT_KINDS = ("rate_limit", "server_error", "unavailable", "reset", "lost_answer")


def with_test_env(ws: Workspace, server, **variables: str) -> Workspace:  # noqa: ANN001
    tables_for(server).create("main", "main")
    add_environment(ws, server)
    ws.env.update(variables)
    return ws


def locks(tables) -> int:  # noqa: ANN001
    return tables.list_rows("main", "workbook_lock").total


def test_a_request_that_never_answers_fails_the_run_in_bounds(workspace: Workspace, server) -> None:  # noqa: ANN001
    ws = with_test_env(workspace, server, WORKBOOK_HTTP_TIMEOUT="1")
    tables = tables_for(server)
    assert ws.run("up", "--env", "test", "--migration", "001").code == 0
    server.inject_fault(
        kind="hang", seconds=300, times=-1, method="POST", path="/tables/blog_posts/columns/"
    )
    began = time.monotonic()
    hung = ws.run("up", "--env", "test", "--to", "002")  # 003 is not what the hang is about
    took = time.monotonic() - began
    server.clear_faults()

    assert hung.code == 1, hung.output
    assert "failed: migration 002 on 'test'" in hung.stderr
    assert "timed out" in hung.stdout
    assert took < 120, f"a hung request held the run for {took:.0f}s"
    rows = ledger_rows(tables)
    failed = next(r for r in rows if r["version"] == "002")
    assert failed["state"] == "failed" and "timed out" in failed["error"]
    assert archive_facts(ws, failed["archive"])["status"] == "failed"
    assert locks(tables) == 0

    again = ws.run("up", "--env", "test", "--to", "002")
    assert again.code == 0, again.output
    assert_converged(ws, tables, ("001", "002"))


def test_a_cell_past_its_timeout_is_stopped_and_named(workspace: Workspace) -> None:
    ws = workspace
    for old in (ws.root / "migrations").glob("*.ipynb"):  # one kernel is all this needs
        old.unlink()
    assert ws.run("create", "--name", "slow_step").code == 0
    path = ws.root / "migrations/001_slow_step.ipynb"
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if c.source.startswith("%%up"))
    up_cell.source = "%%up\nimport time\ntime.sleep(120)  # a backfill that never ends"
    nbformat.write(nb, path)

    began = time.monotonic()
    result = ws.run("up", extra_env={"WORKBOOK_CELL_TIMEOUT": "4"})
    assert time.monotonic() - began < 110
    assert result.code == 1, result.output
    assert "longer than its timeout of 4s" in result.stdout
    assert "cell `import time`" in result.stdout
    status = ws.run("status")
    line = next(li for li in status.stdout.splitlines() if " 001 " in li)
    assert "failed" in line
    assert "no lock was held" in ws.run("unlock").stdout  # the lock went with the run


def test_twenty_percent_of_requests_failing(workspace: Workspace, server) -> None:  # noqa: ANN001
    ws = with_test_env(workspace, server, WORKBOOK_HTTP_TIMEOUT="3")
    tables = tables_for(server)

    def inject() -> None:
        for seed, kind in enumerate(FAULT_KINDS):
            server.inject_fault(kind=kind, probability=0.045, times=-1, seed=seed)

    for _attempt in range(4):
        inject()
        result = ws.run("up", "--env", "test", *CONFIRMED)
        server.clear_faults()  # the test's own reads are not the system under test
        shown = RESULT_LINE.findall(result.stdout)
        assert shown or result.code != 0, result.output
        for version, _direction, status, archive in shown:
            facts = archive_facts(ws, archive)
            if status != "unsettled":
                row = next(r for r in ledger_rows(tables) if r["$id"] == facts["run_id"])
                assert (status, facts["status"], row["state"]) == (status,) * 3, version
        if result.code == 0:
            break
    else:
        raise AssertionError("four runs under 20% faults did not converge")
    ws.run("status", "--env", "test")  # settles anything left unsettled
    assert_converged(ws, tables)


def test_ctrl_c_settles_the_run_and_says_one_line(workspace: Workspace, server) -> None:  # noqa: ANN001
    ws = with_test_env(workspace, server)
    tables = tables_for(server)
    server.inject_fault(
        kind="latency", seconds=2.0, times=20, method="POST", path="/tables/blog_posts/columns"
    )
    proc = start(ws, "up", "--env", "test", "--to", "002")  # no kernel warmed for 003
    row = wait_for(
        "002 running",
        lambda: next(
            (r for r in ledger_rows(tables) if r["version"] == "002" and r["state"] == "running"),
            None,
        ),
        proc=proc,
    )
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    server.clear_faults()

    assert proc.returncode == 130, out + err
    assert "Traceback" not in out + err
    said = [line for line in err.splitlines() if line.strip()]
    assert len(said) <= 2 and "interrupted: 002 up recorded as failed" in said[0], err
    settled = next(r for r in ledger_rows(tables) if r["$id"] == row["$id"])
    assert settled["state"] == "failed"
    assert archive_facts(ws, settled["archive"])["status"] == "failed"
    assert locks(tables) == 0
    assert process_gone(row["pid"])
