"""Helpers shared by test modules (a uniquely named module: several folders have a
conftest.py, so `from conftest import …` would be ambiguous)."""

from __future__ import annotations

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from workbook.local.server import LocalServer


def sdk_client_for(server: LocalServer, key: str | None = None) -> Client:
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    return client.set_key(key if key is not None else server.api_key)


def tables_for(server: LocalServer, key: str | None = None) -> TablesDB:
    """The TablesDB service of the official SDK, talking to ``server`` over HTTP."""
    return TablesDB(sdk_client_for(server, key))
