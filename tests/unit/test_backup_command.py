"""`workbook backup` takes a checksummed backup now; `workbook backups` lists what is on disk
(size, tables, rows, run, complete); an interrupted backup is incomplete and never offered;
``WORKBOOK_BACKUP_KEEP`` prunes old ones."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, assert_refused

from workbook.command import backups
from workbook.core.config import Workspace
from workbook.local.server import LocalServer
from workbook.settings import scoped_environ


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    for table, count in (("posts", 230), ("notes", 3)):
        tables.create_table(
            database_id,
            table,
            table.title(),
            columns=[{"key": "title", "type": "varchar", "size": 100, "required": True}],
        )
        rows = [{"$id": f"{table}{i}", "title": f"{table} {i}"} for i in range(count)]
        for start in range(0, count, 100):
            tables.create_rows(database_id, table, rows[start : start + 100])
    return database_id


def backup_folders(ws: CliWorkspace) -> list[Path]:
    root = ws.root / "history/test/backups"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def test_backup_then_list_then_restore(ws: CliWorkspace, tables: TablesDB, database: str) -> None:
    taken = ws.run("backup", "--env", "test")
    assert taken.code == 0, taken.output
    assert "backed up 230 row(s) of posts" in taken.stdout
    assert "backed up 3 row(s) of notes" in taken.stdout
    [folder] = backup_folders(ws)
    assert folder.name.endswith("-manual")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.jsonl", "posts.jsonl", "schema.json"]

    listed = ws.run("backups", "--env", "test")
    assert listed.code == 0, listed.output
    line = next(x for x in listed.stdout.splitlines() if folder.name in x)
    assert "2 table(s) (posts, notes), 233 row(s)" in line or "(notes, posts), 233" in line
    assert line.endswith("complete") and " KB " in line

    tables.delete_table(database, "notes")
    restored = ws.run("restore", str(folder), "--env", "test", "--table", "notes")
    assert restored.code == 0, restored.output
    assert tables.list_rows(database, "notes").total == 3


def test_only_named_tables_and_unknown_ones_refused(ws: CliWorkspace) -> None:
    assert_refused(ws.run("backup", "--env", "test", "--table", "nope"), "has no table nope")
    assert backup_folders(ws) == []
    taken = ws.run("backup", "--env", "test", "--table", "notes")
    assert taken.code == 0, taken.output
    assert taken.stdout.splitlines()[0] == "backed up 3 row(s) of notes"
    [folder] = backup_folders(ws)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.jsonl", "schema.json"]


def test_an_interrupted_backup_is_incomplete_and_never_offered(
    ws: CliWorkspace, local_server: LocalServer
) -> None:
    def fail_from_now_on(table: str, rows: int) -> None:  # the disk check has passed
        local_server.inject_fault(kind="server_error", method="GET", path=r"/rows$", times=-1)

    try:
        with scoped_environ(ws.environ()), pytest.raises(AppwriteException):
            backups.backup(Workspace(ws.root), "test", on_progress=fail_from_now_on)
    finally:
        local_server.clear_faults()
    [folder] = backup_folders(ws)
    assert not (folder / "schema.json").exists()
    listed = ws.run("backups", "--env", "test")
    assert "incomplete: never offered for restore" in listed.stdout
    assert_refused(ws.run("restore", str(folder), "--env", "test"), "an export that did not finish")


def test_retention_keeps_the_newest(ws: CliWorkspace) -> None:
    assert ws.run("backup", "--env", "test", "--table", "notes").code == 0
    time.sleep(1.1)  # backups are named by the second
    keep = {"WORKBOOK_BACKUP_KEEP": "1"}
    newer = ws.run("backup", "--env", "test", "--table", "notes", extra_env=keep)
    assert newer.code == 0, newer.output
    assert "pruned:" in newer.stdout
    assert len(backup_folders(ws)) == 1
    bad = ws.run("backup", "--env", "test", extra_env={"WORKBOOK_BACKUP_KEEP": "zero"})
    assert_refused(bad, "$WORKBOOK_BACKUP_KEEP='zero' is not a whole number")
