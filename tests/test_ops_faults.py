"""Asynchronous failures: a column or index that ends `failed`, `stuck`, or never finishes."""

from __future__ import annotations

from typing import Any

import pytest
from appwrite.services.tables_db import TablesDB
from ops_fixtures import *  # noqa: F403 - the module's fixtures

from workbook.errors import OperationFailed
from workbook.runtime.ops import Ops


def test_failed_column_names_table_column_and_server_error(ops: Ops, ops_server: Any) -> None:
    ops.create_table("posts")
    ops_server.inject_fault(
        kind="column", key="views", outcome="failed", error="Attribute already exists in metadata"
    )
    with pytest.raises(OperationFailed) as info:
        ops.add_column("posts", "views", "integer")
    message = str(info.value)
    assert "column posts.views is failed: Attribute already exists in metadata" in message
    assert "delete_column('posts', 'views')" in message
    # Re-running does not pretend the failed column is fine.
    with pytest.raises(OperationFailed, match="is failed"):
        ops.add_column("posts", "views", "integer")
    # The remedy the message names works, and then the step succeeds.
    ops.delete_column("posts", "views")
    assert ops.add_column("posts", "views", "integer")["status"] == "available"


def test_failed_index(ops: Ops, ops_server: Any) -> None:
    ops.create_table("posts", columns=[{"key": "title", "type": "varchar", "size": 20}])
    ops_server.inject_fault(
        kind="index",
        key="by_title",
        outcome="failed",
        error="Index length is longer than the maximum: 768",
    )
    with pytest.raises(OperationFailed, match=r"index posts\.by_title is failed: Index length"):
        ops.add_index("posts", "by_title", "key", ["title"])


def test_stuck_column(ops: Ops, ops_server: Any) -> None:
    ops.create_table("posts")
    ops_server.inject_fault(kind="column", key="views", outcome="stuck", error="worker crashed")
    with pytest.raises(OperationFailed, match=r"posts\.views is stuck: worker crashed"):
        ops.add_column("posts", "views", "integer")


def test_processing_forever_times_out(tables: TablesDB, database_id: str, ops_server: Any) -> None:
    ops = Ops(tables, database_id, poll_interval=0.02, timeout=0.3)
    ops.create_table("posts")
    ops_server.inject_fault(kind="column", key="views", outcome="processing")
    with pytest.raises(OperationFailed) as info:
        ops.add_column("posts", "views", "integer")
    assert "column posts.views not available after 0.3s" in str(info.value)
    assert "re-run" in str(info.value)


def test_server_error_on_create_then_rerun_finishes(ops: Ops, ops_server: Any) -> None:
    ops.create_table("posts")
    ops_server.inject_fault(kind="server_error", method="POST", path="/columns/integer$")
    with pytest.raises(OperationFailed, match=r"add_column posts\.views failed: Server Error"):
        ops.add_column("posts", "views", "integer")
    assert ops.add_column("posts", "views", "integer")["status"] == "available"


def test_unreachable_server_is_one_line(tmp_path: Any) -> None:
    from appwrite.client import Client

    from workbook.local.server import start_local_server

    srv = start_local_server(tmp_path / "gone.db", schema_delay=0.0)
    client = Client().set_endpoint(srv.endpoint).set_project(srv.project_id).set_key(srv.api_key)
    srv.stop()
    ops = Ops(TablesDB(client), "db", timeout=1)
    with pytest.raises(OperationFailed) as info:
        ops.table("posts")
    assert "\n" not in str(info.value) and srv.api_key not in str(info.value)
