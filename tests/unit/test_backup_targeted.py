"""Targeted automatic backups: a sequence backs up only the tables its migrations touch, once
each, just before the first write that could lose their data; ``backup = "none"`` refuses
such a write unless the run declined backups with ``--no-backup``.

In-process: each migration is an ``Ops`` over the guarded SDK service, exactly what
``workbook.connect`` hands a kernel (``session.Workbook``), sharing the sequence's lock id.
The kernel path itself (``workbook up``/``down``) is covered by tests/product/test_backup.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, new_workspace

from workbook.core.backup import backups_dir, decline
from workbook.core.client import Target
from workbook.core.config import Environment, Workspace
from workbook.errors import WorkbookError
from workbook.local.server import LocalServer
from workbook.runtime.backups import BackupGuard, TableBackups
from workbook.runtime.ops import Ops

LOCK = "lock-up-20261202T000000-abcdef"


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    for table in ("authors", "posts", "tags"):
        tables.create_table(
            database_id,
            table,
            table.title(),
            columns=[
                {"key": "name", "type": "varchar", "size": 50, "required": False},
                {"key": "score", "type": "integer", "required": False},
            ],
        )
        rows = [{"$id": f"{table[0]}{i}", "name": f"{table} {i}", "score": i} for i in range(5)]
        tables.create_rows(database_id, table, rows)
    return database_id


def environment(server: LocalServer, database: str, backup: str = "touched") -> Environment:
    return Environment(
        name="test",
        project=server.project_id,
        database=database,
        key_env="UNUSED",
        endpoint=server.endpoint,
        backup=backup,
    )


def migration(
    server: LocalServer, client: Client, database: str, ws: Workspace, version: str, **env: str
) -> Ops:
    """What ``workbook.connect`` builds for one migration of the sequence ``LOCK``."""
    target = Target(environment(server, database, **env), client, server.endpoint)
    backups = TableBackups(
        target,
        ws,
        lock_id=LOCK,
        version=version,
        declined=(backups_dir(ws, "test") / f"{LOCK}.no-backup").is_file(),
    )
    return Ops(BackupGuard(TablesDB(client), backups), database, poll_interval=0.02)


def test_a_sequence_of_three_backs_up_only_what_it_touches_once_each(
    local_server: LocalServer, client: Client, database: str, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path)
    m1 = migration(local_server, client, database, ws, "101")
    m1.add_column("tags", "colour", "varchar", size=10)  # not destructive: no backup
    assert not backups_dir(ws, "test").exists()
    m1.backfill("posts", lambda row: {"score": row["score"] + 10})

    m2 = migration(local_server, client, database, ws, "102")
    m2.backfill("posts", lambda row: {"score": row["score"] * 2})  # posts: taken already
    m2.delete_column("authors", "score")

    m3 = migration(local_server, client, database, ws, "103")
    m3.tables.client.call(  # a raw SDK write counts too (authors: taken already)
        "delete",
        f"/tablesdb/{database}/tables/authors/rows/a1",
        {"content-type": "application/json", "X-Appwrite-Project": local_server.project_id},
    )
    m3.tables.delete_row(database, "posts", "p0")

    [folder] = backups_dir(ws, "test").iterdir()
    assert folder.name == f"{LOCK}-before-101"
    manifest = json.loads((folder / "schema.json").read_text())
    assert [t["$id"] for t in manifest["tables"]] == ["posts", "authors"]
    assert {t: v["before"] for t, v in manifest["taken"].items()} == {
        "posts": "101",
        "authors": "102",
    }
    posts = [json.loads(line) for line in (folder / "posts.jsonl").read_text().splitlines()]
    assert [r["score"] for r in posts] == [0, 1, 2, 3, 4]  # as before 101's backfill
    authors = [json.loads(line) for line in (folder / "authors.jsonl").read_text().splitlines()]
    assert len(authors) == 5 and all("score" in r for r in authors)  # before the delete
    assert sorted(p.name for p in folder.iterdir()) == [
        "authors.jsonl",
        "posts.jsonl",
        "schema.json",
    ]


def test_backup_none_refuses_a_destructive_write_unless_declined(
    local_server: LocalServer, client: Client, database: str, tables: TablesDB, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path)
    off = migration(local_server, client, database, ws, "101", backup="none")
    off.add_column("tags", "colour", "varchar", size=10)  # not destructive: allowed
    with pytest.raises(WorkbookError) as refused:
        off.delete_column("authors", "score")
    assert refused.value.message == (
        "delete_column would delete or rewrite data of table authors, "
        "and environment 'test' has backup = \"none\""
    )
    assert "--no-backup" in (refused.value.hint or "")
    assert tables.get_column(database, "authors", "score").key == "score"  # nothing written

    decline(backups_dir(ws, "test"), LOCK)  # what `workbook up --no-backup` leaves
    declined = migration(local_server, client, database, ws, "101", backup="none")
    declined.delete_column("authors", "score")
    assert [p.name for p in backups_dir(ws, "test").iterdir()] == [f"{LOCK}.no-backup"]


def test_backup_cloud_is_refused_clearly_on_the_local_server(
    local_server: LocalServer, client: Client, database: str, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path)
    cloud = migration(local_server, client, database, ws, "101", backup="cloud")
    with pytest.raises(WorkbookError, match="needs Appwrite Cloud's Backups service"):
        cloud.tables.delete_rows(database, "posts")


def test_an_unknown_backup_setting_is_refused(tmp_path: Path, local_server: LocalServer) -> None:
    ws: CliWorkspace = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, local_server)
    with (ws.root / "workbook.toml").open("a") as toml:
        toml.write('backup = "sometimes"\n')
    result = ws.run("status", "--env", "test")
    assert result.code == 2
    assert "backup = 'sometimes' is not one of touched, all, none, cloud" in result.stderr
