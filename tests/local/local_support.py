"""Helpers of the local server's conformance tests (imported by the test modules)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB


def wait_status(
    client: Client,
    database_id: str,
    table_id: str,
    key: str,
    *,
    index: bool = False,
    until: tuple[str, ...] = ("available", "failed", "stuck"),
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Poll a column (or index) as Appwrite's own e2e tests do, through raw JSON."""
    kind = "indexes" if index else "columns"
    path = f"/tablesdb/{database_id}/tables/{table_id}/{kind}/{key}"
    deadline = time.monotonic() + timeout
    while True:
        body = client.call("get", path, {"X-Appwrite-Project": client.get_config("project")})
        if body["status"] in until or time.monotonic() > deadline:
            return body
        time.sleep(0.01)


def unique_index(
    tables: TablesDB, client: Client, database_id: str, table_id: str, key: str, column: str
) -> dict[str, Any]:
    """A unique index on one column, once the 'worker' has finished building it."""
    tables.create_index(database_id, table_id, key, TablesDBIndexType.UNIQUE, [column])
    return wait_status(client, database_id, table_id, key, index=True)


def raw(client: Client, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """A raw SDK call, for status codes and exact JSON the typed models hide."""
    headers = {"X-Appwrite-Project": client.get_config("project")}
    if method != "get":
        headers["content-type"] = "application/json"
    return client.call(method, path, headers, params or {})


def error_of(call: Any, *args: Any, **kwargs: Any) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        call(*args, **kwargs)
    return caught.value
