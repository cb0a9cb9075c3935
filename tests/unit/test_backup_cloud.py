"""``backup = "cloud"``: Appwrite Cloud's Backups service through the official SDK.

The local server answers ``/v1/backups/*`` as self-hosted Appwrite does (the service is
Cloud's only: ``404 general_route_not_found``), so what can be shown here is the refusal:
one line naming what is missing and what to choose instead, before the first migration
starts, with nothing written to the target and no ledger row left running. The archive
itself (create, then poll until ``completed``) needs Appwrite Cloud.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.enums.backup_services import BackupServices
from appwrite.exception import AppwriteException
from appwrite.services.backups import Backups
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused, new_workspace

from workbook.core.client import Target
from workbook.core.cloud_archive import take_archive
from workbook.core.config import Environment
from workbook.core.ledger import LEDGER_TABLE, LOCK_TABLE
from workbook.errors import WorkbookError
from workbook.local.server import LocalServer


def test_the_local_server_answers_the_backups_service_as_self_hosted_appwrite(
    client: Client,
) -> None:
    with pytest.raises(AppwriteException) as create:
        Backups(client).create_archive([BackupServices.TABLESDB], resource_id="main")
    with pytest.raises(AppwriteException) as get:
        Backups(client).get_archive("any")
    for refused in (create.value, get.value):
        assert (refused.code, refused.type) == (404, "general_route_not_found")


def test_take_archive_says_what_is_missing_in_one_line(
    local_server: LocalServer, client: Client, database_id: str
) -> None:
    env = Environment(
        name="test",
        project=local_server.project_id,
        database=database_id,
        key_env="UNUSED",
        endpoint=local_server.endpoint,
        backup="cloud",
    )
    with pytest.raises(WorkbookError) as refused:
        take_archive(Target(env, client, local_server.endpoint), timeout=5)
    assert refused.value.message == (
        f'backup = "cloud" needs Appwrite Cloud\'s Backups service; {local_server.endpoint} '
        "has none (404 general_route_not_found)"
    )
    assert 'backup = "touched"' in (refused.value.hint or "")


@pytest.fixture
def ws(tmp_path: Path, local_server: LocalServer, database_id: str) -> CliWorkspace:
    ws = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, local_server, database=database_id)
    with (ws.root / "workbook.toml").open("a", encoding="utf-8") as toml:
        toml.write('backup = "cloud"\n')
    return ws


def test_up_with_backup_cloud_stops_before_the_first_migration(
    ws: CliWorkspace, tables: TablesDB, database_id: str, local_server: LocalServer
) -> None:
    refused = ws.run("up", "--env", "test", extra_env={"WORKBOOK_PREWARM": "0"})
    assert_refused(
        refused,
        "needs Appwrite Cloud's Backups service",
        f"{local_server.endpoint} has none",
        'use backup = "touched"',
    )
    present = {t.id for t in tables.list_tables(database_id).tables}
    assert "blog_posts" not in present  # 001 never ran
    if LEDGER_TABLE in present:
        assert tables.list_rows(database_id, LEDGER_TABLE).total == 0
    if LOCK_TABLE in present:
        assert tables.list_rows(database_id, LOCK_TABLE).total == 0  # lock released
    assert not list((ws.root / "history/test/backups").glob("*-cloud-*.json"))

    declined = ws.run("up", "--env", "test", "--no-backup", "--dry-run")
    assert declined.code == 0, declined.output  # a dry run writes nothing: no archive asked
