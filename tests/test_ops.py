"""Ops against the local server through the official SDK: every step, and every step twice."""

from __future__ import annotations

from typing import Any

import pytest
from ops_fixtures import *  # noqa: F403 - the module's fixtures
from ops_fixtures import writes_to

from workbook.errors import OperationFailed
from workbook.runtime.ops import Ops

POSTS_COLUMNS = [
    {"key": "title", "type": "varchar", "size": 200, "required": True},
    {"key": "body", "type": "text"},
    {"key": "views", "type": "integer", "min": 0, "default": 0},
]
POSTS_INDEXES = [{"key": "by_title", "type": "key", "columns": ["title"]}]


def test_create_table_inline_then_again_is_noop(
    ops: Ops, ops_server: Any, database_id: str
) -> None:
    table = ops.create_table("posts", "Posts", columns=POSTS_COLUMNS, indexes=POSTS_INDEXES)
    assert table is not None
    assert {c["key"]: c["status"] for c in table["columns"]} == {
        "title": "available",
        "body": "available",
        "views": "available",
    }
    assert [i["key"] for i in table["indexes"]] == ["by_title"]
    writes = len(writes_to(ops_server, database_id))
    again = ops.create_table("posts", "Posts", columns=POSTS_COLUMNS, indexes=POSTS_INDEXES)
    assert again is not None and len(again["columns"]) == 3
    assert len(writes_to(ops_server, database_id)) == writes


def test_create_table_existing_adds_missing_columns_and_indexes(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS[:1])
    table = ops.create_table(
        "posts",
        columns=POSTS_COLUMNS,
        indexes=[
            *POSTS_INDEXES,
            {"key": "by_views", "type": "key", "columns": ["views"], "orders": ["DESC"]},
        ],
    )
    assert table is not None
    assert sorted(c["key"] for c in table["columns"]) == ["body", "title", "views"]
    assert all(c["status"] == "available" for c in table["columns"])
    assert sorted(i["key"] for i in table["indexes"]) == ["by_title", "by_views"]


def test_create_table_conflicting_column_names_the_difference(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    changed = [{"key": "title", "type": "varchar", "size": 50, "required": True}]
    with pytest.raises(OperationFailed, match=r"posts\.title.*size is 200, wanted 50"):
        ops.create_table("posts", columns=changed)


@pytest.mark.parametrize(
    ("kind", "options", "stored_type", "stored_format"),
    [
        ("varchar", {"size": 64, "default": "x"}, "varchar", None),
        ("string", {"size": 20}, "string", None),
        ("text", {}, "text", None),
        ("mediumtext", {}, "mediumtext", None),
        ("longtext", {}, "longtext", None),
        ("integer", {"min": -5, "max": 5, "default": 1}, "integer", None),
        ("bigint", {"max": 9007199254740993}, "bigint", None),
        ("float", {"min": 0.5, "max": 2.5}, "double", None),
        ("boolean", {"default": True}, "boolean", None),
        ("datetime", {}, "datetime", "datetime"),
        ("email", {"default": "a@example.com"}, "string", "email"),
        ("url", {}, "string", "url"),
        ("ip", {"array": True}, "string", "ip"),
        ("enum", {"elements": ["draft", "live"], "default": "draft"}, "string", "enum"),
    ],
)
def test_add_column_every_type_idempotent(
    ops: Ops,
    ops_server: Any,
    database_id: str,
    kind: str,
    options: dict[str, Any],
    stored_type: str,
    stored_format: str | None,
) -> None:
    ops.create_table("things")
    column = ops.add_column("things", "c", kind, **options)
    assert column is not None
    assert column["status"] == "available"
    assert column["type"] == stored_type
    if stored_format:
        assert column["format"] == stored_format
    if kind == "bigint":
        assert column["max"] == 9007199254740993  # raw JSON keeps every digit
    writes = len(writes_to(ops_server, database_id))
    assert ops.add_column("things", "c", kind, **options) == ops.column("things", "c")
    assert len(writes_to(ops_server, database_id)) == writes


def test_add_column_existing_but_different(ops: Ops) -> None:
    ops.create_table("things")
    ops.add_column("things", "n", "integer", min=0)
    with pytest.raises(OperationFailed, match=r"things\.n exists but differs: type is integer"):
        ops.add_column("things", "n", "varchar", size=10)
    with pytest.raises(OperationFailed, match="min is 0, wanted 1"):
        ops.add_column("things", "n", "integer", min=1)


def test_add_column_rejects_bad_definitions_before_sending(ops: Ops) -> None:
    ops.create_table("things")
    with pytest.raises(OperationFailed, match="needs size"):
        ops.add_column("things", "v", "varchar")
    with pytest.raises(OperationFailed, match="unknown type 'blob'"):
        ops.add_column("things", "v", "blob")
    with pytest.raises(OperationFailed, match="needs elements"):
        ops.add_column("things", "v", "enum")


def test_add_column_server_refusal_is_one_line(ops: Ops) -> None:
    ops.create_table("things")
    with pytest.raises(OperationFailed) as info:
        ops.add_column("things", "v", "varchar", size=10, required=True, default="x")
    assert "add_column things.v failed" in str(info.value)
    assert "\n" not in str(info.value)


def test_update_column_changes_and_is_idempotent(
    ops: Ops, ops_server: Any, database_id: str
) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    updated = ops.update_column("posts", "title", size=300, required=False, default="untitled")
    assert updated is not None
    assert (updated["size"], updated["required"], updated["default"]) == (300, False, "untitled")
    writes = len(writes_to(ops_server, database_id))
    ops.update_column("posts", "title", size=300, required=False, default="untitled")
    assert len(writes_to(ops_server, database_id)) == writes
    numbers = ops.update_column("posts", "views", max=1000)
    assert numbers is not None and numbers["max"] == 1000 and numbers["min"] == 0
    assert numbers["default"] == 0


def test_update_column_required_drops_default(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    column = ops.update_column("posts", "views", required=True)
    assert column is not None and column["required"] is True and column["default"] is None


def test_update_enum_keeps_elements_unless_given(ops: Ops) -> None:
    ops.create_table("posts")
    ops.add_column("posts", "state", "enum", elements=["draft", "live"])
    column = ops.update_column("posts", "state", default="live")
    assert column is not None and column["elements"] == ["draft", "live"]
    column = ops.update_column("posts", "state", elements=["draft", "live", "gone"])
    assert column is not None and column["elements"] == ["draft", "live", "gone"]


def test_rename_column_twice(ops: Ops, ops_server: Any, database_id: str) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    renamed = ops.rename_column("posts", "body", "content")
    assert renamed is not None and renamed["key"] == "content"
    assert ops.column("posts", "body") is None
    writes = len(writes_to(ops_server, database_id))
    ops.rename_column("posts", "body", "content")
    assert len(writes_to(ops_server, database_id)) == writes
    with pytest.raises(OperationFailed, match=r"posts\.nothing does not exist"):
        ops.rename_column("posts", "nothing", "else")


def test_delete_column_waits_and_is_idempotent(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    ops.delete_column("posts", "body")
    assert ops.column("posts", "body") is None
    ops.delete_column("posts", "body")


def test_indexes_add_delete_twice(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    index = ops.add_index("posts", "by_views", "key", ["views"], orders=["desc"])
    assert index is not None and index["status"] == "available"
    assert ops.add_index("posts", "by_views", "key", ["views"])["key"] == "by_views"
    with pytest.raises(OperationFailed, match="by_views exists but differs: type is key"):
        ops.add_index("posts", "by_views", "unique", ["views"])
    ops.delete_index("posts", "by_views")
    assert ops.index("posts", "by_views") is None
    ops.delete_index("posts", "by_views")


def test_delete_table_twice(ops: Ops) -> None:
    ops.create_table("posts", columns=POSTS_COLUMNS)
    ops.delete_table("posts")
    assert ops.table("posts") is None
    ops.delete_table("posts")


def test_reads_of_missing_things_are_none(ops: Ops) -> None:
    assert ops.table("nope") is None
    assert ops.column("nope", "x") is None
    ops.create_table("posts")
    assert ops.column("posts", "x") is None
    assert ops.index("posts", "x") is None


def test_missing_database_is_an_error_not_none(tables: Any) -> None:
    ops = Ops(tables, "no-such-db", poll_interval=0.02, timeout=5)
    with pytest.raises(OperationFailed, match="no-such-db"):
        ops.table("posts")


@pytest.mark.parametrize(
    ("kind", "options", "new_default"),
    [
        ("varchar", {"size": 10}, "v"),
        ("string", {"size": 10}, "s"),
        ("text", {}, "t"),
        ("mediumtext", {}, "m"),
        ("longtext", {}, "l"),
        ("integer", {}, 7),
        ("bigint", {}, 9007199254740993),
        ("float", {}, 1.5),
        ("boolean", {}, True),
        ("datetime", {}, "2024-01-02T03:04:05.000+00:00"),
        ("email", {}, "b@example.com"),
        ("url", {}, "https://example.com/"),
        ("ip", {}, "10.0.0.1"),
        ("enum", {"elements": ["a", "b"]}, "b"),
    ],
)
def test_update_column_default_every_type(
    ops: Ops, kind: str, options: dict[str, Any], new_default: Any
) -> None:
    ops.create_table("things")
    ops.add_column("things", "c", kind, **options)
    column = ops.update_column("things", "c", default=new_default)
    assert column is not None
    if kind == "datetime":
        assert column["default"].startswith("2024-01-02T03:04:05")
    else:
        assert column["default"] == new_default
    assert ops.add_column("things", "c", kind, default=new_default, **options) is not None


def test_update_column_refuses_options_of_other_types(ops: Ops) -> None:
    ops.create_table("things")
    ops.add_column("things", "flag", "boolean")
    with pytest.raises(OperationFailed, match="size= does not apply to a boolean column"):
        ops.update_column("things", "flag", size=10)


def test_add_column_while_old_one_is_deleting(ops: Ops, tables: Any, database_id: str) -> None:
    ops.create_table("things")
    ops.add_column("things", "c", "integer")
    tables.delete_column(database_id, "things", "c")  # asynchronous: `deleting` for a while
    column = ops.add_column("things", "c", "varchar", size=5)
    assert column is not None and column["type"] == "varchar"
