"""Shared fixtures: one local server per test session (per xdist worker), a fresh database per
test.

Other test modules may add fixtures here, additively.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from sdk_support import sdk_client_for

from workbook.local.server import LocalServer, start_local_server

# A key with read-only scopes, for the scope tests.
READ_ONLY_KEY = "read-only-" + uuid.uuid4().hex
READ_ONLY_SCOPES = ["databases.read", "tables.read", "rows.read"]
TEST_SCHEMA_DELAY = 0.02


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    server = start_local_server(
        tmp_path_factory.mktemp("local") / "session.db",
        schema_delay=TEST_SCHEMA_DELAY,
        extra_keys={READ_ONLY_KEY: READ_ONLY_SCOPES},
    )
    yield server
    server.stop()


@pytest.fixture
def client(local_server: LocalServer) -> Client:
    return sdk_client_for(local_server)


@pytest.fixture
def tables(client: Client) -> TablesDB:
    return TablesDB(client)


@pytest.fixture
def database_id(tables: TablesDB) -> str:
    database_id = "db" + uuid.uuid4().hex[:12]
    tables.create(database_id, database_id)
    return database_id


@pytest.fixture
def read_only_key() -> str:
    """A key of the session server that has only `*.read` scopes."""
    return READ_ONLY_KEY


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SHOWN = ("*.png", "*.svg")  # screenshots and rendered terminals a reviewer looks at


@pytest.fixture(autouse=True)
def keep_artifacts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Screenshots (JupyterLab, the HTML site) and rendered terminals a test saved in its
    tmp_path are copied to test-artifacts/<test>/ afterwards, pass or fail, for CI to
    keep and for a reviewer to open."""
    yield
    tmp = request.node.funcargs.get("tmp_path")
    if not isinstance(tmp, Path):
        return
    found = [p for pattern in SHOWN for p in tmp.rglob(pattern)]
    if not found:
        return
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    for path in found:
        shutil.copy2(path, folder / path.name)
