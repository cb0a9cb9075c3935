"""Helpers for the run-protocol tests: a `workbook up` to kill, and the ledger as it is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from cli_support import Workspace

CONFIRMED = ("-p", "confirmed=app_release")  # 003's checklist, on a non-local environment
VERSIONS = ("001", "002", "003")


def start(
    ws: Workspace, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`workbook …` started now, to be killed or awaited later."""
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", *args],
        cwd=ws.root,
        env={**ws.env, **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill9(proc: subprocess.Popen[str]) -> None:
    """kill -9, as the machine dying does; reaped so its pid is really gone."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def wait_for(
    what: str,
    predicate: Callable[[], Any],
    timeout: float = 120,
    proc: subprocess.Popen[str] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended before {what}:\n{out}\n{err}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ledger_rows(tables: TablesDB) -> list[dict[str, Any]]:
    try:
        answer = tables.client.call(
            "get",
            "/tablesdb/main/tables/workbook_ledger/rows",
            {
                "content-type": "application/json",
                "X-Appwrite-Project": tables.client.get_config("project"),
            },
            {"queries": [Query.limit(500), Query.order_asc("$sequence")]},
        )
    except Exception:  # noqa: BLE001 - no ledger yet
        return []
    return answer["rows"]


def process_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def archive_facts(ws: Workspace, relpath: str) -> dict[str, Any]:
    nb = json.loads((ws.root / relpath).read_text(encoding="utf-8"))
    return nb["metadata"].get("workbook") or {}


def assert_converged(
    ws: Workspace, tables: TablesDB, versions: tuple[str, ...] = VERSIONS
) -> list[dict[str, Any]]:
    """Every migration of ``versions`` (a test that runs up to a target passes the ones up
    to it) applied exactly once, no run left running, no lock left held, and each run's
    archive says what the ledger says."""
    rows = ledger_rows(tables)
    applied = [r["version"] for r in rows if r["direction"] == "up" and r["state"] == "applied"]
    assert sorted(applied) == list(versions), rows
    assert not [r for r in rows if r["state"] == "running"], rows
    for row in rows:
        assert row["archive"], row
        facts = archive_facts(ws, row["archive"])
        assert facts.get("status") == row["state"], (row, facts)
        assert facts.get("run_id") == row["$id"]
    locks = tables.list_rows("main", "workbook_lock").total
    assert locks == 0
    return rows
