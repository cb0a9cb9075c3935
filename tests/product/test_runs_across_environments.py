"""Locks, retries, several environments in order, and applied notebooks edited afterwards."""

from __future__ import annotations

import nbformat
import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from cli_support import TEST_KEY_ENV, Workspace, add_environment

from workbook.core.catalog import load_catalog
from workbook.core.client import Target
from workbook.core.config import Environment
from workbook.core.config import Workspace as WorkbookWorkspace
from workbook.core.journal import Journal
from workbook.core.ledger import LOCK_ROW, LOCK_TABLE, Ledger
from workbook.core.transport import RetryingClient
from workbook.errors import AWAITING_EXIT_CODE


def tables_for(server, client: Client | None = None) -> TablesDB:  # noqa: ANN001
    client = (client or Client()).set_endpoint(server.endpoint).set_project(server.project_id)
    return TablesDB(client.set_key(server.api_key))


def live_journal(workspace: Workspace, server, operator_name: str) -> Journal:  # noqa: ANN001
    """The journal another live process (a CI job) would have on environment 'test'."""
    env = Environment(
        name="test",
        project=server.project_id,
        database="main",
        key_env=TEST_KEY_ENV,
        endpoint=server.endpoint,
        lease_seconds=600,
    )
    target = Target(env, tables_for(server).client, server.endpoint)
    return Journal(target, WorkbookWorkspace(workspace.root), operator_name=operator_name)


def test_a_live_lock_refuses_the_run_until_unlocked(workspace: Workspace, server) -> None:  # noqa: ANN001
    tables = tables_for(server)
    tables.create("main", "main")
    journal = live_journal(workspace, server, "ci-job-41")
    lock_id, run_id = "20260101T000000-lock-up-0001", "20260101T000000-001-up-dead"
    journal.acquire(lock_id)  # its heartbeat is fresh and its pid (ours) is alive
    first = load_catalog(workspace.root / "migrations")[0]
    journal.open(run_id, lock_id=lock_id, migration=first, direction="up", archive_path=None)
    add_environment(workspace, server)

    refused = workspace.run("up", "--env", "test")
    assert refused.code == 2
    assert "locked by ci-job-41" in refused.stderr
    assert "workbook unlock --env test" in refused.stderr
    assert not (workspace.root / "history/test").exists()

    unlocked = workspace.run("unlock", "--env", "test")
    assert unlocked.code == 0 and "ci-job-41" in unlocked.stdout
    record = journal.ledger.get(run_id)
    assert record is not None and record.state == "failed" and "abandoned" in str(record.error)
    with pytest.raises(Exception, match="not be found|not found"):
        tables.get_row("main", LOCK_TABLE, LOCK_ROW)


def test_throttled_and_dropped_requests_are_retried(server) -> None:  # noqa: ANN001
    tables = tables_for(server, RetryingClient(waits=(0.01, 0.01, 0.01, 0.01)))
    server.inject_fault(kind="rate_limit", times=2, path="/v1/tablesdb$")
    tables.create("retry", "retry")  # two 429s, then success
    server.inject_fault(kind="reset", times=1, method="GET")
    assert tables.get("retry").name == "retry"
    statuses = [r["status"] for r in server.request_log() if r["path"] == "/v1/tablesdb"]
    assert statuses.count(429) == 2 and statuses[-1] == 201


def test_environments_run_in_order_and_stop_at_the_first_that_does_not_finish(
    workspace: Workspace, server
) -> None:  # noqa: ANN001
    tables_for(server).create("main", "main")
    add_environment(workspace, server)
    (workspace.root / "migrations/002_add_blog_views.ipynb").unlink()  # 001 and 003 show it
    # On 'test' (not local), 003's checklist gate needs a confirmation this run does not give.
    first = workspace.run("up", "--env", "test", "--env", "local")
    assert first.code == AWAITING_EXIT_CODE, first.output
    assert "workbook up --env test -p confirmed=app_release" in first.output
    assert not (workspace.root / "history/local").exists()  # local never started

    second = workspace.run("up", "--env", "test", "--env", "local", "-p", "confirmed=app_release")
    assert second.code == 0, second.output
    assert second.stdout.index("test →") < second.stdout.index("local →")
    assert second.output.count("applied in") == 3  # 003 on test, then 001 and 003 on local


def test_an_applied_migration_edited_afterwards_is_reported_and_blocks_up(
    workspace: Workspace,
) -> None:
    assert workspace.run("up", "--migration", "001").code == 0
    path = workspace.root / "migrations/001_initial_schema.ipynb"
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if c.source.startswith("%%up"))
    up_cell.source += '\nprint("an afterthought")'
    nbformat.write(nb, path)

    status = workspace.run("status").stdout
    assert "modified" in next(li for li in status.splitlines() if " 001 " in li)
    refused = workspace.run("up")
    assert refused.code == 2 and "001 was modified after it was applied" in refused.stderr


def test_a_migration_without_down_cells_is_irreversible(workspace: Workspace) -> None:
    for old in (workspace.root / "migrations").glob("*.ipynb"):  # one kernel is all this needs
        old.unlink()
    assert workspace.run("create", "--name", "one_way").code == 0
    path = workspace.root / "migrations/001_one_way.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.startswith("%%down")]
    nbformat.write(nb, path)
    assert workspace.run("up").code == 0
    refused = workspace.run("down")
    assert refused.code == 2
    assert "001 is irreversible: it has no %%down cells" in refused.stderr


def test_two_simultaneous_runs_never_collide(workspace: Workspace, server) -> None:  # noqa: ANN001
    """Two operators (or CI jobs) start `workbook up` on one environment at once: exactly
    one applies the migrations, the other is refused by the lock, and no run is doubled."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    tables = tables_for(server)
    tables.create("main", "main")
    add_environment(workspace, server)
    command = [
        sys.executable,
        "-m",
        "workbook",
        "up",
        "--env",
        "test",
        "-p",
        "confirmed=app_release",
    ]

    def up(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=workspace.root,
            env=workspace.env,
            capture_output=True,
            text=True,
            timeout=240,
        )

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(up, range(2)))
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 2], [r.stdout + r.stderr for r in results]
    refused = next(r for r in results if r.returncode == 2)
    assert "is locked by" in refused.stderr
    runs = Ledger(tables, "main", "test").runs()
    assert sorted(r.version for r in runs) == ["001", "002", "003"]
    assert all(r.state == "applied" for r in runs)
