"""Helpers shared by test modules (a uniquely named module: several folders have a
conftest.py, so `from conftest import …` would be ambiguous)."""

from __future__ import annotations

from appwrite.client import Client

from workbook.local.server import LocalServer


def sdk_client_for(server: LocalServer, key: str | None = None) -> Client:
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    return client.set_key(key if key is not None else server.api_key)
