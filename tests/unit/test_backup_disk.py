"""No free disk for a backup: the run stops before the migration starts.

The backup's size is estimated (row count × the size of a first page of rows) and compared
with the free space of the backups folder's disk minus ``WORKBOOK_BACKUP_RESERVE``. A
reserve larger than any disk makes the check fail honestly on every machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused, new_workspace

from workbook.core.backup import MIB, check_free_space, estimate_bytes
from workbook.core.client import Target
from workbook.core.config import Environment
from workbook.core.ledger import LEDGER_TABLE, LOCK_TABLE
from workbook.local.server import LocalServer

HUGE = {"WORKBOOK_BACKUP_RESERVE": str(2**40), "WORKBOOK_PREWARM": "0"}  # 1 EiB


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    tables.create_table(
        database_id,
        "notes",
        "Notes",
        columns=[{"key": "text", "type": "varchar", "size": 500, "required": True}],
    )
    rows = [{"$id": f"n{i}", "text": "x" * 400} for i in range(60)]
    tables.create_rows(database_id, "notes", rows[:50])
    tables.create_rows(database_id, "notes", rows[50:])
    return database_id


def test_the_estimate_follows_row_count_and_size(
    local_server: LocalServer, client: Client, database: str, tmp_path: Path
) -> None:
    need = estimate_bytes(client, database, ["notes"])
    assert 60 * 400 < need < 60 * 1000  # 60 rows of ~0.5 KB (400 chars and system fields)
    env = Environment("test", local_server.project_id, database, "UNUSED", local_server.endpoint)
    assert check_free_space(Target(env, client, local_server.endpoint), tmp_path, None) == need
    assert MIB == 1 << 20


def test_up_without_disk_for_the_backup_writes_nothing(
    tmp_path: Path, local_server: LocalServer, tables: TablesDB, database_id: str
) -> None:
    ws = new_workspace(tmp_path, folders=("migrations",))  # a new database: 001 would run
    add_environment(ws, local_server, database=database_id)
    database = database_id
    refused = ws.run("up", "--env", "test", extra_env=HUGE)
    assert_refused(
        refused,
        "no free disk for the backup: it needs about",
        "kept in reserve ($WORKBOOK_BACKUP_RESERVE)",
    )
    present = {t.id for t in tables.list_tables(database).tables}
    assert "blog_posts" not in present  # 001 never started
    if LEDGER_TABLE in present:
        running = tables.list_rows(database, LEDGER_TABLE).rows
        assert [r for r in running if r.data.get("state") == "running"] == []
        assert len(running) == 0
    if LOCK_TABLE in present:
        assert tables.list_rows(database, LOCK_TABLE).total == 0
    assert [p for p in (ws.root / "history/test/backups").glob("*") if p.is_dir()] == []


def test_backup_command_without_disk_writes_no_folder(ws: CliWorkspace) -> None:
    refused = ws.run("backup", "--env", "test", extra_env=HUGE)
    assert_refused(refused, "no free disk for the backup")
    root = ws.root / "history/test/backups"
    assert not root.exists() or list(root.iterdir()) == []


def test_a_bad_reserve_is_refused(ws: CliWorkspace) -> None:
    refused = ws.run("backup", "--env", "test", extra_env={"WORKBOOK_BACKUP_RESERVE": "lots"})
    assert_refused(refused, "$WORKBOOK_BACKUP_RESERVE='lots' is not a whole number of MiB")
