"""Checklist gates in-process, through ``workbook.connect`` against the real local server:
what the ledger keeps (who confirmed which step, when), what a resumed run remembers, what
JupyterLab's open run does with a tick, and how ``awaiting`` folds into each version's state.
The batch run through the CLI and kernels is tests/product/test_checklist_gate.py; the
checkboxes in a real browser are in tests/browser/test_jupyterlab.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_inproc import REPO, CliWorkspace, add_environment, new_workspace

from workbook.core.catalog import load_catalog
from workbook.core.ledger import RunRecord, RunState, version_states
from workbook.core.status import applied_versions, check_down, pending, status_rows
from workbook.errors import AWAITING_EXIT_CODE
from workbook.runtime import session
from workbook.runtime.checklist import Checklist, ChecklistPending, Step

GATE = [Step("store", "Update the key in the store console"), Step("notify", "Tell support")]


@pytest.fixture
def ws(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    database_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[CliWorkspace]:
    """Environment 't' on the session's server, 001–002 stamped: 003 may run next."""
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, name="t", database=database_id)
    assert ws.run("stamp", "002", "--env", "t").code == 0
    for name, value in ws.environ().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(ws.root))
    yield ws
    if session._current is not None and not session._current.finished:
        session._current.fail("test ended")
    session._current = None


def _row(wb: session.Workbook, run_id: str) -> RunRecord:
    record = wb.journal.ledger.get(run_id)
    assert record is not None
    return record


def test_batch_gate_stops_awaiting_and_the_resumed_run_remembers_earlier_steps(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    first = session.connect("t", "003")
    checklist = Checklist("Key rotation", GATE, confirmed="store")
    with pytest.raises(ChecklistPending) as stopped:
        checklist.require()
    assert stopped.value.exit_code == AWAITING_EXIT_CODE == 3
    assert "workbook up --env t -p confirmed=notify" in str(stopped.value)

    record = _row(first, first.run_id)
    assert record.state is RunState.AWAITING and first.finished
    assert "notify (Tell support)" in (record.error or "")
    assert "`workbook up --env t -p confirmed=notify`" in (record.error or "")
    kept = json.loads(record.checklist or "{}")
    assert set(kept) == {"store"}
    assert kept["store"]["how"] == "confirmed by parameter"
    assert kept["store"]["by"] == "test-operator" and kept["store"]["at"].startswith("20")
    assert first.journal.ledger.lock_row() is None  # released: the next run may start
    [row] = [
        r
        for r in status_rows(load_catalog(ws.root / "migrations"), first.journal.states())
        if r.version == "003"
    ]
    assert row.state == "awaiting" and "confirmed=notify" in (row.error or "")

    second = session.connect("t", "003")  # `workbook up -p confirmed=notify`
    resumed = Checklist("Key rotation", GATE, confirmed="notify")
    store = resumed.steps[0]
    assert store.done and f"in run {first.run_id}" in store.how and "test-operator" in store.how
    assert resumed.require() is resumed
    second.done()
    record = _row(second, second.run_id)
    assert record.state is RunState.APPLIED
    kept = json.loads(record.checklist or "{}")
    assert kept["store"]["run"] == first.run_id and kept["notify"]["run"] == second.run_id


def test_jupyterlab_gate_keeps_the_run_open_and_a_tick_survives_re_running_the_cell(
    ws: CliWorkspace,
) -> None:
    wb = session.connect("t", "003")
    drawn = Checklist("Key rotation", GATE, mode="interactive", confirmed="")
    with pytest.raises(ChecklistPending, match="tick their boxes"):
        drawn.require()
    assert _row(wb, wb.run_id).state is RunState.RUNNING and not wb.finished
    assert wb.journal.holds(wb.run_id)  # JupyterLab's kernel keeps the lock while it waits

    title, store, notify, verify, status = drawn.widget.children
    store.value = True  # the operator ticks; the kernel hears it over the comm
    kept = json.loads(_row(wb, wb.run_id).checklist or "{}")
    assert kept["store"]["how"] == "ticked" and kept["store"]["by"] == "test-operator"

    rerun = Checklist("Key rotation", GATE, mode="interactive", confirmed="")  # cell re-run
    assert rerun.steps[0].done and rerun.steps[0].how.startswith("ticked by test-operator at ")
    assert rerun.widget.children[1].value is True  # the box is drawn ticked
    with pytest.raises(ChecklistPending, match="not done: notify"):
        rerun.require()

    session._close_on_exit()  # the kernel stops while the gate waits: awaiting, not failed
    record = _row(wb, wb.run_id)
    assert record.state is RunState.AWAITING and "notify" in (record.error or "")
    assert wb.journal.ledger.lock_row() is None

    again = session.connect("t", "003")  # a new kernel: the tick is remembered
    last = Checklist("Key rotation", GATE, mode="interactive", confirmed="")
    assert last.steps[0].done and f"in run {wb.run_id}" in last.steps[0].how
    last.confirm("notify", "ticked")
    assert last.require() is last and again.awaiting is None
    again.done()
    assert _row(again, again.run_id).state is RunState.APPLIED


def test_a_dry_run_shows_the_gate_in_its_plan_and_never_stops(ws: CliWorkspace) -> None:
    wb = session.connect("t", "003", dry_run=True)
    checklist = Checklist("Key rotation", GATE, confirmed="store")
    assert checklist.require() is checklist
    [gate] = [s for s in wb.plan if s.operation == "checklist gate"]
    assert gate.effect == "gate" and gate.target == "Key rotation"
    assert gate.detail["waits_for"] == "notify" and "confirmed=" in gate.detail["confirm"]
    assert len(wb.plan) == 0  # a gate is not a change
    not_enforced = Checklist("Local only", GATE)
    not_enforced.require(enforce=False)
    assert [s.target for s in wb.plan] == ["Key rotation"]


def _run(version: str, direction: str, state: RunState, run_id: str) -> RunRecord:
    return RunRecord(run_id, version, "", direction, state, "", "t", "me", "2026-12-02")


def test_awaiting_folds_into_version_states() -> None:
    catalog = load_catalog(REPO / "migrations")
    up_waits = version_states([_run("003", "up", RunState.AWAITING, "a")])
    assert up_waits["3"].state == "awaiting" and 3 not in applied_versions(up_waits)
    assert [m.version for m in pending(catalog, up_waits)][-1] == "003"  # `up` resumes it
    # a rollback that waits at its gate leaves the migration applied: `up` does not re-run
    # it, `down` resumes the rollback
    runs = [_run(v, "up", RunState.APPLIED, f"u{v}") for v in ("001", "002", "003")] + [
        _run("003", "down", RunState.AWAITING, "d")
    ]
    down_waits = version_states(runs)
    assert down_waits["3"].state == "awaiting" and 3 in applied_versions(down_waits)
    assert pending(catalog, down_waits) == []
    check_down(catalog, down_waits, catalog[2], "t")


def test_a_rollback_gate_names_the_down_command_and_leaves_the_migration_applied(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ws.run("stamp", "003", "--env", "t").code == 0
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    wb = session.connect("t", "003", direction="down")
    with pytest.raises(
        ChecklistPending, match="workbook down --env t --migration 003 -p confirmed"
    ):
        Checklist("Before the rollback", GATE, confirmed="").require()
    states = wb.journal.states()
    assert states["3"].state == "awaiting" and 3 in applied_versions(states)
    assert pending(load_catalog(ws.root / "migrations"), states) == []  # `up` leaves it be
