"""Fixtures for the ops/dry-run/schema tests: one local server per test module, one fresh
database per test, so tests stay independent and cheap under `pytest -n 2`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from workbook.local.server import start_local_server

from workbook.ops import Ops

__all__ = ["database_id", "ops", "ops_server", "sdk_client", "tables"]


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = start_local_server(tmp_path_factory.mktemp("ops") / "a.db", schema_delay=0.05)
    yield srv
    srv.stop()


@pytest.fixture
def sdk_client(ops_server: Any) -> Client:
    client = Client().set_endpoint(ops_server.endpoint).set_project(ops_server.project_id)
    return client.set_key(ops_server.api_key)


@pytest.fixture
def tables(sdk_client: Client) -> TablesDB:
    return TablesDB(sdk_client)


@pytest.fixture
def database_id(tables: TablesDB) -> str:
    database_id = "db" + uuid.uuid4().hex[:12]
    tables.create(database_id, database_id)
    return database_id


@pytest.fixture
def ops(tables: TablesDB, database_id: str) -> Ops:
    return Ops(tables, database_id, poll_interval=0.02, timeout=10.0)


def requests_to(srv: Any, database_id: str) -> list[dict[str, Any]]:
    """Every logged request that touched `database_id` (its path names it)."""
    return [e for e in srv.request_log() if f"/{database_id}" in e["path"]]


def writes_to(srv: Any, database_id: str) -> list[dict[str, Any]]:
    """The requests to `database_id` that were not GETs."""
    return [e for e in requests_to(srv, database_id) if e["method"].upper() != "GET"]
