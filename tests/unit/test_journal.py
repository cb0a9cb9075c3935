"""The journal, in-process against the real local server: the lock's lease, settling a dead
holder, first word wins, retried creates, adoption, ledger upgrades."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from cli_inproc import add_environment, assert_refused, new_workspace, snapshot

from workbook.core.catalog import load_catalog
from workbook.core.client import Target
from workbook.core.config import Environment, Workspace
from workbook.core.journal import HOST, Journal, NotAdopted
from workbook.core.ledger import LEDGER_TABLE, LOCK_ROW, LOCK_TABLE, RunState, now
from workbook.errors import LockHeld

REPO = Path(__file__).resolve().parents[2]
MIGRATION = load_catalog(REPO / "migrations")[0]
LONG_AGO = "2026-01-01T00:00:00.000+00:00"


def journal_for(
    local_server,
    client: Client,
    database_id: str,
    tmp_path: Path,  # noqa: ANN001
    lease: float = 60.0,
    who: str = "tester",
) -> Journal:
    env = Environment(
        name="t",
        project=local_server.project_id,
        database=database_id,
        key_env="T_KEY",
        endpoint=local_server.endpoint,
        lease_seconds=lease,
    )
    return Journal(
        Target(env, client, local_server.endpoint), Workspace(tmp_path), operator_name=who
    )


@pytest.fixture
def journal(local_server, client: Client, database_id: str, tmp_path: Path) -> Journal:  # noqa: ANN001
    return journal_for(local_server, client, database_id, tmp_path)


def fake_holder(
    journal: Journal,
    *,
    host: str,
    pid: int | None,
    heartbeat: str,
    lock_id: str = "20260101T000000-lock-up-dead",
) -> str:
    """A lock row as another process left it."""
    journal.ledger.ensure()
    journal.ledger.create_lock(
        {
            "run_id": lock_id,
            "owner": "ci-job",
            "acquired_at": heartbeat,
            "heartbeat_at": heartbeat,
            "host": host,
            "pid": pid,
            "lease_seconds": 2.0,
        }
    )
    return lock_id


def test_a_live_holder_refuses_with_who_where_and_when(journal: Journal) -> None:
    fake_holder(journal, host="elsewhere", pid=1, heartbeat=now())
    with pytest.raises(LockHeld, match="locked by ci-job on elsewhere") as refused:
        journal.acquire("mine")
    assert "lease expires" in str(refused.value.hint)


def test_an_expired_lease_is_settled_and_the_lock_taken(journal: Journal) -> None:
    lock_id = fake_holder(journal, host="elsewhere", pid=1, heartbeat=LONG_AGO)
    journal.open(
        "run-dead", lock_id=lock_id, migration=MIGRATION, direction="up", archive_path=None
    )
    journal.acquire("mine")
    dead = journal.ledger.get("run-dead")
    assert dead is not None and dead.state is RunState.FAILED
    assert dead.error == "abandoned: no heartbeat since 2026-01-01T00:00:00.000+00:00"
    holder = journal.ledger.lock_row()
    assert holder is not None and holder.holder == "mine" and holder.host == HOST


def test_a_gone_process_on_this_host_is_settled_without_waiting(journal: Journal) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    lock_id = fake_holder(journal, host=HOST, pid=int(proc.stdout), heartbeat=now())
    journal.open(
        "run-gone", lock_id=lock_id, migration=MIGRATION, direction="up", archive_path=None
    )
    assert [r.run_id for r in journal.settle_abandoned()] == ["run-gone"]
    assert journal.ledger.lock_row() is None
    assert "is gone" in str(journal.ledger.get("run-gone").error)  # type: ignore[union-attr]


def test_the_first_word_wins(journal: Journal) -> None:
    journal.acquire("lock-1")
    journal.open("run-1", lock_id="lock-1", migration=MIGRATION, direction="up", archive_path=None)
    failed = journal.finish("run-1", RunState.FAILED, error="abandoned: test")
    late = journal.finish("run-1", RunState.APPLIED)  # a kernel's late done()
    assert failed.state is late.state is RunState.FAILED


def test_a_retried_open_and_acquire_are_recognised_as_ours(journal: Journal) -> None:
    journal.acquire("lock-2")
    journal.acquire("lock-2")  # its first answer was lost; the retry meets our own row
    first = journal.open(
        "run-2", lock_id="lock-2", migration=MIGRATION, direction="up", archive_path=None
    )
    again = journal.open(
        "run-2", lock_id="lock-2", migration=MIGRATION, direction="up", archive_path=None
    )
    assert first.run_id == again.run_id and again.state is RunState.RUNNING


def test_heartbeats_renew_the_lease_while_the_holder_lives(
    local_server,
    client: Client,  # noqa: ANN001
    database_id: str,
    tmp_path: Path,
) -> None:
    journal = journal_for(local_server, client, database_id, tmp_path, lease=0.6)
    journal.acquire("beating")
    first = journal.ledger.lock_row().heartbeat_at  # type: ignore[union-attr]
    with journal.keep_alive("beating") as beat:
        import time

        time.sleep(1.0)
        assert not beat.lost
    assert journal.ledger.lock_row().heartbeat_at != first  # type: ignore[union-attr]


def test_a_settled_run_s_archive_says_so(journal: Journal, tmp_path: Path) -> None:
    lock_id = fake_holder(journal, host=HOST, pid=None, heartbeat=LONG_AGO)
    journal.open(
        "run-3",
        lock_id=lock_id,
        migration=MIGRATION,
        direction="up",
        archive_path="history/t/run-3_initial_schema.ipynb",
    )
    journal.settle_abandoned()
    import json

    nb = json.loads((tmp_path / "history/t/run-3_initial_schema.ipynb").read_text())
    facts = nb["metadata"]["workbook"]
    assert facts["status"] == "failed" and facts["run_id"] == "run-3"
    assert "left no executed notebook" in nb["cells"][0]["source"]


def test_data_without_a_ledger_is_not_adopted_silently(journal: Journal) -> None:
    tables = journal.ledger.tables
    tables.create_table(journal.environment.database, "customers", "Customers")
    with pytest.raises(NotAdopted, match="has tables \\(customers\\) but no ledger"):
        journal.check_adopted()


@pytest.fixture
def unadopted(tmp_path: Path, local_server, tables: TablesDB, database_id: str):  # noqa: ANN001, ANN201
    """A workspace whose environment 'test' has data (blog_posts) but no ledger."""
    tables.create_table(database_id, "blog_posts", "Blog posts")
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, database=database_id)
    return ws


def test_status_and_up_refuse_a_database_with_data_but_no_ledger(
    unadopted,
    tables: TablesDB,
    database_id: str,  # noqa: ANN001
) -> None:
    ws = unadopted
    before = snapshot(ws.root)
    for verb in ("status", "up"):
        assert_refused(
            ws.run(verb, "--env", "test"),
            "has tables (blog_posts) but no ledger",
            "workbook stamp",
            unchanged=(ws.root, before),
        )
    names = [t.id for t in tables.list_tables(database_id).tables]
    assert names == ["blog_posts"]  # no ledger was created either


def test_an_old_ledger_gets_the_new_columns(journal: Journal) -> None:
    database = journal.environment.database
    tables = journal.ledger.tables
    tables.create_table(
        database,
        LEDGER_TABLE,
        "old ledger",
        columns=[
            {"key": "version", "type": "varchar", "size": 16, "required": True},
            {"key": "description", "type": "varchar", "size": 255},
            {"key": "direction", "type": "varchar", "size": 8, "required": True},
            {"key": "state", "type": "varchar", "size": 16, "required": True},
        ],
    )
    tables.create_table(
        database,
        LOCK_TABLE,
        "old lock",
        columns=[{"key": "run_id", "type": "varchar", "size": 64, "required": True}],
    )
    journal.acquire("upgraded")
    journal.open(
        "run-4", lock_id="upgraded", migration=MIGRATION, direction="up", archive_path=None
    )
    record = journal.ledger.get("run-4")
    assert record is not None and record.lock_id == "upgraded" and record.host == HOST
    assert tables.get_row(database, LOCK_TABLE, LOCK_ROW)


def test_stamp_adopts_a_database_and_status_shows_it(unadopted) -> None:  # noqa: ANN001
    ws = unadopted

    stamped = ws.run("stamp", "002", "--env", "test")
    assert stamped.code == 0, stamped.output
    assert "001 Initial schema: stamped (not run)" in stamped.stdout
    status = ws.run("status", "--env", "test")
    assert status.code == 0, status.output
    states = {
        line.split()[1]: line
        for line in status.stdout.splitlines()
        if line.strip().startswith("│ 00")
    }
    assert "stamped" in states["001"] and "stamped" in states["002"]
    assert "pending" in states["003"] and "test-operat" in states["001"]  # may be cut
    again = ws.run("stamp", "002", "--env", "test")
    assert again.code == 0 and "nothing to stamp" in again.stdout
    mirror = (ws.root / "history/test/applied.json").read_text()
    assert '"version": "002"' in mirror
