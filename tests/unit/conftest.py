"""Fixtures shared by the in-process backup and restore tests: the module under test
defines ``database`` (a seeded database id); these give the Target that reads it, a
backup of it, and a workspace whose `test` environment points at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from appwrite.client import Client
from cli_inproc import CliWorkspace, add_environment, new_workspace

from workbook.core.backup import export_database
from workbook.core.client import Target
from workbook.core.config import Environment
from workbook.local.server import LocalServer


@pytest.fixture
def target(local_server: LocalServer, client: Client, database: str) -> Target:
    env = Environment(
        name="test",
        project=local_server.project_id,
        database=database,
        key_env="UNUSED",
        endpoint=local_server.endpoint,
    )
    return Target(env, client, local_server.endpoint)


@pytest.fixture
def ws(tmp_path: Path, local_server: LocalServer, database: str) -> CliWorkspace:
    ws = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, local_server, database=database)
    return ws


@pytest.fixture
def backup(tmp_path: Path, target: Target) -> Path:
    folder = tmp_path / "backup"
    export_database(target, folder)
    return folder
