"""The run protocol under crashes: `workbook up` killed -9 at each step of a run.

Each test kills a real `workbook up` process at one point, then runs `workbook up` again
without `workbook unlock`: the dead run is settled as failed (the lock's holder is gone),
its archive is annotated, and the environment converges — every migration up to the run's
target applied once, data neither lost nor doubled. The runs stop at the migration the kill
needs (``--to``), so no kernel is started only to reach the end of the sequence. The lease
is short (2 s), as a dead holder on another host would be settled once its heartbeat is
that old.
"""

from __future__ import annotations

import pytest
from appwrite.query import Query
from cli_support import Workspace, add_environment
from protocol_support import (
    VERSIONS,
    archive_facts,
    assert_converged,
    kill9,
    ledger_rows,
    process_gone,
    start,
    wait_for,
)
from sdk_support import tables_for

SEEDED = 3  # rows 001 seeds
VIEWS_ZERO = Query.equal("views", 0)


@pytest.fixture
def env_test(workspace: Workspace, server):  # noqa: ANN001, ANN201
    tables_for(server).create("main", "main")
    add_environment(workspace, server)
    workspace.env["WORKBOOK_LEASE_SECONDS"] = "2"
    return workspace


def running_row(tables, version: str):  # noqa: ANN001, ANN201
    return next(
        (r for r in ledger_rows(tables) if r["version"] == version and r["state"] == "running"),
        None,
    )


def settle_and_converge(ws: Workspace, tables, killed_run: str | None, to: str = "002"):  # noqa: ANN001, ANN201
    """Run `up --to <to>` again and check the dead run is settled and the environment
    converged up to that target (a kill at 001 or 002 needs no kernel for 003 to show it)."""
    again = ws.run("up", "--env", "test", "--to", to)
    assert again.code == 0, again.output
    assert "locked" not in again.output
    rows = assert_converged(ws, tables, tuple(v for v in VERSIONS if v <= to))
    if killed_run:
        dead = next(r for r in rows if r["$id"] == killed_run)
        assert dead["state"] == "failed" and dead["error"].startswith("abandoned:"), dead
        facts = archive_facts(ws, dead["archive"])
        assert facts["status"] == "failed" and facts["settled_because"]
    return rows


def test_killed_during_a_kernel(env_test: Workspace, server) -> None:  # noqa: ANN001
    tables = tables_for(server)
    # 002's column build is held for a while, so the kill lands inside its kernel
    server.inject_fault(
        kind="latency", seconds=2.0, times=20, method="POST", path="/tables/blog_posts/columns"
    )
    proc = start(env_test, "up", "--env", "test", "--to", "002")
    row = wait_for("002 running", lambda: running_row(tables, "002"), proc=proc)
    kill9(proc)
    assert process_gone(row["pid"]), "the kernel outlived its runner"
    server.clear_faults()

    rows = settle_and_converge(env_test, tables, row["$id"])
    assert tables.list_rows("main", "blog_posts").total == SEEDED
    assert len([r for r in rows if r["version"] == "002"]) == 2  # the killed one, the re-run


def test_killed_during_a_backfill(env_test: Workspace, server) -> None:  # noqa: ANN001
    tables = tables_for(server)
    assert env_test.run("up", "--env", "test", "--migration", "001").code == 0
    extra = [{"$id": f"p{i:04d}", "title": f"Post {i}", "slug": f"post-{i}"} for i in range(1200)]
    for start_at in range(0, len(extra), 100):
        tables.upsert_rows("main", "blog_posts", extra[start_at : start_at + 100])
    server.clear_request_log()
    server.inject_fault(
        kind="latency", seconds=0.4, times=-1, method="PUT", path="/tables/blog_posts/rows$"
    )
    proc = start(env_test, "up", "--env", "test", "--to", "002", "-p", "batch_size=50")

    def backfilling() -> bool:
        return (
            sum(
                1
                for r in server.request_log()
                if r["method"] == "PUT" and r["path"].endswith("/blog_posts/rows")
            )
            >= 3
        )

    wait_for("the backfill under way", backfilling, proc=proc)
    row = running_row(tables, "002")
    kill9(proc)
    server.clear_faults()
    done = tables.list_rows("main", "blog_posts", [VIEWS_ZERO]).total
    assert 0 < done < len(extra) + 3, "the kill was meant to land mid-backfill"

    settle_and_converge(env_test, tables, row["$id"])
    total = tables.list_rows("main", "blog_posts").total
    assert total == len(extra) + SEEDED  # nothing lost, nothing doubled
    zero = tables.list_rows("main", "blog_posts", [VIEWS_ZERO]).total
    assert zero == total  # the re-run finished the backfill


def test_killed_after_the_kernel_finished_before_settling(env_test: Workspace, server) -> None:  # noqa: ANN001
    tables = tables_for(server)
    proc = start(env_test, "up", "--env", "test", "--migration", "001")
    applied = wait_for(
        "001 applied by its kernel",
        lambda: next((r for r in ledger_rows(tables) if r["state"] == "applied"), None),
        proc=proc,
    )
    # the runner's reads of the ledger now take long: its settling is held back
    server.inject_fault(
        kind="latency", seconds=3.0, times=-1, method="GET", path="/workbook_ledger/rows/"
    )
    archive = env_test.root / applied["archive"]

    def final_but_unsettled() -> bool:
        text = archive.read_text(encoding="utf-8") if archive.exists() else ""
        return "recorded as applied" in text and '"status": "applied"' not in text

    wait_for("papermill's final output", final_but_unsettled, proc=proc)
    assert process_gone(applied["pid"])  # the kernel has finished
    kill9(proc)
    server.clear_faults()
    assert "status" not in archive_facts(env_test, applied["archive"])  # not settled yet

    rows = settle_and_converge(env_test, tables, None, to="001")
    first = next(r for r in rows if r["$id"] == applied["$id"])
    assert first["state"] == "applied"  # it did apply: the settling says so, not "failed"
    facts = archive_facts(env_test, first["archive"])
    assert facts["status"] == "applied" and facts["settled_because"]
    assert tables.list_rows("main", "blog_posts").total == SEEDED


def test_killed_during_the_pre_run_backup(env_test: Workspace, server) -> None:  # noqa: ANN001
    with (env_test.root / "workbook.toml").open("a", encoding="utf-8") as toml:
        toml.write('backup = "all"\n')  # the runner backs up before the sequence starts
    tables = tables_for(server)
    assert env_test.run("up", "--env", "test", "--migration", "001").code == 0
    server.inject_fault(
        kind="latency", seconds=2.0, times=-1, method="GET", path="/tables/blog_posts/rows$"
    )
    proc = start(env_test, "up", "--env", "test", "--to", "002")
    backups = env_test.root / "history/test/backups"
    before = set(backups.iterdir())
    wait_for("the backup under way", lambda: set(backups.iterdir()) - before, proc=proc)
    kill9(proc)
    server.clear_faults()
    assert tables.list_rows("main", "workbook_lock").total == 1  # the dead run's lock
    assert running_row(tables, "002") is None  # killed before any kernel opened a run

    settle_and_converge(env_test, tables, None)
    assert tables.list_rows("main", "blog_posts").total == SEEDED
