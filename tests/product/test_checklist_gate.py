"""A checklist gate in batch, through the real CLI, kernels and server (issue 8, Done when):
003's gate stops `workbook up` as `awaiting` before the rename runs, and the next run with
the step confirmed resumes and finishes."""

from __future__ import annotations

import json

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from cli_support import Workspace, add_environment
from sdk_support import tables_for

from workbook.core.ledger import LEDGER_TABLE, LOCK_ROW, LOCK_TABLE, row_json
from workbook.errors import AWAITING_EXIT_CODE

CONFIRM = "workbook up --env test -p confirmed=app_release"


def _tables(server: object) -> TablesDB:
    return tables_for(server)


def _columns(tables: TablesDB) -> set[str]:
    return {c.key for c in tables.list_columns("main", "blog_posts").columns}


def _runs_of_003(tables: TablesDB) -> list[dict]:
    rows = tables.list_rows(
        "main", LEDGER_TABLE, [Query.equal("version", "003"), Query.order_asc("$sequence")]
    ).rows
    return [row_json(r) for r in rows]


def test_gate_stops_batch_as_awaiting_before_the_rename_then_resumes(
    workspace: Workspace,
    server,  # noqa: ANN001
) -> None:
    tables = _tables(server)
    tables.create("main", "main")
    add_environment(workspace, server)

    first = workspace.run("up", "--env", "test")
    assert first.code == AWAITING_EXIT_CODE == 3, first.output
    assert "001" in first.stdout and "002" in first.stdout and "awaiting" in first.stdout
    # the terminal names the step and the exact command that confirms it
    assert "awaiting: migration 003 on 'test'" in first.stderr, first.stderr
    assert "app_release (The app release that reads `author_name` is live)" in first.stdout
    assert f"`{CONFIRM}`" in first.stderr
    assert "Traceback" not in first.output

    # nothing after the gate ran: the live table still has `author`, not `author_name`
    assert "author" in _columns(tables) and "author_name" not in _columns(tables)
    [awaiting] = _runs_of_003(tables)
    assert awaiting["state"] == "awaiting" and CONFIRM in awaiting["error"]
    # the lock is released: the next run (or anyone else) may go on
    try:
        tables.get_row("main", LOCK_TABLE, LOCK_ROW)
        raise AssertionError("the lock row is still there")
    except AppwriteException as exc:
        assert exc.code == 404

    status = workspace.run("status", "--env", "test", "--check")
    assert status.code == 1, status.output
    assert "003 awaiting: checklist 'Before author is renamed to author_name'" in status.stdout
    assert CONFIRM in status.stdout and "check failed: 003 awaiting" in status.stdout

    # a dry run shows the gate in its plan and never stops
    plan = workspace.run("up", "--env", "test", "--dry-run")
    assert plan.code == 0, plan.output
    assert "checklist gate" in plan.stdout and "app_release" in plan.stdout

    second = workspace.run("up", "--env", "test", "-p", "confirmed=app_release")
    assert second.code == 0, second.output
    assert "003" in second.stdout and "applied" in second.stdout
    assert "author_name" in _columns(tables) and "author" not in _columns(tables)
    first_run, resumed = _runs_of_003(tables)
    assert (first_run["state"], resumed["state"]) == ("awaiting", "applied")
    confirmed = json.loads(resumed["checklist"])
    assert set(confirmed) == {"app_release"}  # a check proved name_free: nothing to keep
    assert confirmed["app_release"]["by"] == "test-operator"
    assert confirmed["app_release"]["how"] == "confirmed by parameter"
    assert workspace.run("status", "--env", "test", "--check").code == 0
