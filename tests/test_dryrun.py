"""Dry runs send no write: proven by the local server's request log, not by trusting the proxy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from ops_fixtures import *  # noqa: F403 - the module's fixtures
from ops_fixtures import requests_to, writes_to

from workbook.errors import OperationFailed
from workbook.runtime.dryrun import NO_OP, DryRunProxy, Plan, PlanStep
from workbook.runtime.ops import Ops

COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": True},
    {"key": "views", "type": "integer", "default": 0},
]


def test_plan_records_frame_html_and_len() -> None:
    plan = Plan()
    plan.add("add_column", "posts.views", {"type": "integer", "api_key": "s3cr3t"})
    plan.add("add_index", "posts.by_views", {"reason": "exists"}, effect=NO_OP)
    assert len(plan) == 1 and len(plan.steps) == 2
    records = plan.to_records()
    assert json.loads(json.dumps(records)) == records
    assert records[0]["detail"] == {"type": "integer", "api_key": "***"}
    frame = plan.to_frame()
    assert list(frame.columns) == ["operation", "target", "effect", "detail"]
    assert frame["effect"].tolist() == ["change", NO_OP]
    assert "posts.views" in plan._repr_html_() and "s3cr3t" not in plan._repr_html_()
    assert "1 change(s)" in repr(plan)
    assert isinstance(plan[0], PlanStep)
    assert "nothing to do" in Plan()._repr_html_()


def test_proxy_records_sdk_writes_and_passes_reads(
    tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    tables.create_table(database_id, "posts", "Posts", columns=COLUMNS)
    tables.create_row(database_id, "posts", "r1", {"title": "hello"})
    before = len(requests_to(ops_server, database_id))
    plan = Plan()
    proxy: Any = DryRunProxy(tables, plan)

    assert proxy.get_table(database_id, "posts").id == "posts"
    assert proxy.list_rows(database_id, "posts").total == 1
    assert proxy.create_varchar_column(database_id, "posts", "slug", 50, False) is None
    assert (
        proxy.create_index(database_id, "posts", "by_title", TablesDBIndexType.KEY, ["title"])
        is None
    )
    assert proxy.update_row(database_id, "posts", "r1", {"title": "changed"}) is None
    assert proxy.upsert_rows(database_id, "posts", [{"$id": f"n{i}"} for i in range(30)]) is None
    assert proxy.increment_row_column(database_id, "posts", "r1", "views", 1) is None
    assert proxy.delete_rows(database_id, "posts", [Query.equal("title", "x")]) is None
    assert proxy.delete_table(database_id, "posts") is None
    assert proxy.create_query(database_id, "posts") is None  # POST: recorded, never sent
    assert proxy.delete(database_id) is None
    raw = proxy.client.call(
        "post", f"/tablesdb/{database_id}/tables", {}, {"tableId": "sneaky", "name": "x"}
    )
    assert raw is None
    got = proxy.client.call(
        "get",
        f"/tablesdb/{database_id}/tables/posts",
        {"X-Appwrite-Project": ops_server.project_id},
    )
    assert got["$id"] == "posts"

    sent = requests_to(ops_server, database_id)[before:]
    assert sent and {e["method"].upper() for e in sent} == {"GET"}
    ops = [(s.operation, s.target) for s in plan]
    assert ops == [
        ("create_varchar_column", "posts.slug"),
        ("create_index", "posts.by_title"),
        ("update_row", "posts.r1"),
        ("upsert_rows", "posts"),
        ("increment_row_column", "posts.r1.views"),
        ("delete_rows", "posts"),
        ("delete_table", "posts"),
        ("create_query", "posts"),
        ("delete", database_id),
        ("call POST", f"/tablesdb/{database_id}/tables"),
    ]
    assert plan[0].detail == {"size": 50, "required": False}
    assert plan[1].detail["type"] == "key"
    assert plan[3].detail["rows"][-1] == "… 20 more"
    assert json.loads(json.dumps(plan.to_records()))
    assert tables.get_row(database_id, "posts", "r1").data["title"] == "hello"
    assert tables.get_table(database_id, "posts").id == "posts"


def test_dry_run_ops_send_only_gets_and_plan_every_step(
    tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    live = Ops(tables, database_id, poll_interval=0.02, timeout=10)
    live.create_table("posts", columns=COLUMNS)
    before = len(requests_to(ops_server, database_id))
    dry = Ops(tables, database_id, dry_run=True)
    assert isinstance(dry.tables, DryRunProxy)

    dry.create_table(
        "authors",
        columns=[{"key": "name", "type": "varchar", "size": 80}],
        indexes=[{"key": "by_name", "type": "unique", "columns": ["name"]}],
    )
    dry.add_column("authors", "bio", "text")
    dry.add_column("posts", "slug", "varchar", size=50)
    dry.add_column("posts", "views", "integer", default=0)  # exists: no-op
    dry.update_column("posts", "slug", size=80)  # sees the planned column
    dry.rename_column("posts", "title", "headline")
    dry.add_index("posts", "by_headline", "key", ["headline"])
    dry.delete_column("posts", "views")
    dry.delete_column("posts", "never_there")
    dry.delete_index("posts", "nothing")
    dry.delete_table("gone_already")

    sent = requests_to(ops_server, database_id)[before:]
    assert {e["method"].upper() for e in sent} == {"GET"}
    steps = [(s.operation, s.target, s.effect) for s in dry.plan]
    assert steps == [
        ("create_table", "authors", "change"),
        ("add_column", "authors.bio", "change"),
        ("add_column", "posts.slug", "change"),
        ("add_column", "posts.views", NO_OP),
        ("update_column", "posts.slug", "change"),
        ("rename_column", "posts.title", "change"),
        ("add_index", "posts.by_headline", "change"),
        ("delete_column", "posts.views", "change"),
        ("delete_column", "posts.never_there", NO_OP),
        ("delete_index", "posts.nothing", NO_OP),
        ("delete_table", "gone_already", NO_OP),
    ]
    assert dry.plan[4].detail == {"size": 80}
    assert dry.plan[5].detail == {"new_key": "headline"}
    assert len(dry.plan) == 7
    # The target is untouched.
    assert live.column("posts", "slug") is None and live.table("authors") is None


def test_dry_run_of_applied_migration_is_all_noops(tables: TablesDB, database_id: str) -> None:
    live = Ops(tables, database_id, poll_interval=0.02, timeout=10)

    def migration(ops: Ops) -> None:
        ops.create_table("posts", columns=COLUMNS)
        ops.add_column("posts", "slug", "varchar", size=50)
        ops.add_index("posts", "by_slug", "key", ["slug"])
        ops.update_column("posts", "views", max=10_000)
        ops.delete_column("posts", "legacy")

    migration(live)
    dry = Ops(tables, database_id, dry_run=True)
    migration(dry)
    assert len(dry.plan) == 0
    assert {s.effect for s in dry.plan} == {NO_OP}


def test_dry_run_plans_steps_on_tables_an_earlier_migration_creates(
    tables: TablesDB, database_id: str, ops_server: Any
) -> None:
    """Each migration dry-runs in its own kernel: 002 cannot see 001's planned table."""
    dry = Ops(tables, database_id, dry_run=True)
    dry.add_column("blog_posts", "views", "integer", min=0, default=0)
    assert dry.backfill("blog_posts", lambda row: {"views": 0}) == 0
    dry.add_index("blog_posts", "by_views", "key", ["views"])
    dry.add_column("blog_posts", "views", "integer", min=0, default=0)
    dry.rename_column("blog_posts", "author", "author_name")
    steps = [(s.operation, s.effect, "assumes" in s.detail) for s in dry.plan]
    assert steps == [
        ("add_column", "change", True),
        ("backfill", "change", True),
        ("add_index", "change", True),
        ("add_column", NO_OP, False),
        ("rename_column", "change", True),
    ]
    assert "blog_posts exists by then" in dry.plan[0].detail["assumes"]
    assert not writes_to(ops_server, database_id)


def test_dry_run_errors_like_a_live_run(tables: TablesDB, database_id: str) -> None:
    dry = Ops(tables, database_id, dry_run=True)
    dry.create_table("posts", columns=COLUMNS)
    with pytest.raises(OperationFailed, match="exists but differs"):
        dry.add_column("posts", "views", "varchar", size=3)
    dry.delete_table("posts")
    with pytest.raises(OperationFailed, match="deleted earlier in this plan"):
        dry.add_column("posts", "views", "integer")
