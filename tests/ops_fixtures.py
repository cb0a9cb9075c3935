"""Fixtures for the ops/dry-run/schema tests: one local server per test module, one fresh
database per test, so tests stay independent and cheap under `pytest -n 2`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from sdk_support import sdk_client_for

from workbook.local.server import start_local_server
from workbook.runtime.ops import Ops

__all__ = ["client", "ops", "ops_server"]


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = start_local_server(tmp_path_factory.mktemp("ops") / "a.db", schema_delay=0.05)
    yield srv
    srv.stop()


@pytest.fixture
def client(ops_server: Any) -> Client:
    """Overrides the suite's client, so its `tables` and `database_id` use this server."""
    return sdk_client_for(ops_server)


@pytest.fixture
def ops(tables: TablesDB, database_id: str) -> Ops:
    return Ops(tables, database_id, poll_interval=0.02, timeout=10.0)


def requests_to(srv: Any, database_id: str) -> list[dict[str, Any]]:
    """Every logged request that touched `database_id` (its path names it)."""
    return [e for e in srv.request_log() if f"/{database_id}" in e["path"]]


def writes_to(srv: Any, database_id: str) -> list[dict[str, Any]]:
    """The requests to `database_id` that were not GETs."""
    return [e for e in requests_to(srv, database_id) if e["method"].upper() != "GET"]
