"""Indexes through the official SDK: lifecycle, shapes, real SQLite indexes, validation."""

from __future__ import annotations

import sqlite3

import pytest
from appwrite.client import Client
from appwrite.enums.order_by import OrderBy
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw, unique_index, wait_status

from workbook.local.server import LocalServer

COLUMNS = [
    {"key": "title", "type": "varchar", "size": 100, "required": False},
    {"key": "body", "type": "text", "required": False},
    {"key": "views", "type": "integer", "required": False},
    {"key": "tags", "type": "varchar", "size": 20, "required": False, "array": True},
    {"key": "email", "type": "email", "required": False},
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "posts", "Posts", columns=COLUMNS)
    return "posts"


def test_create_get_list_delete(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    created = tables.create_index(
        database_id,
        table_id,
        "by_title",
        TablesDBIndexType.KEY,
        ["title", "views"],
        orders=[OrderBy.ASC, OrderBy.DESC],
    )
    assert created.status == "processing"
    assert created.columns == ["title", "views"] and created.orders == ["ASC", "DESC"]
    assert created.lengths == [None, None]
    assert created.id.endswith("_by_title")
    body = wait_status(client, database_id, table_id, "by_title", index=True)
    assert body["status"] == "available" and body["error"] == ""
    assert set(body) >= {
        "$id",
        "$createdAt",
        "$updatedAt",
        "key",
        "type",
        "status",
        "error",
        "columns",
        "lengths",
        "orders",
    }
    listed = tables.list_indexes(database_id, table_id)
    assert listed.total == 1 and listed.indexes[0].key == "by_title"
    assert tables.get_index(database_id, table_id, "by_title").type == "key"
    tables.delete_index(database_id, table_id, "by_title")
    for _ in range(10_000):
        if tables.list_indexes(database_id, table_id).total == 0:
            break
    error = error_of(tables.get_index, database_id, table_id, "by_title")
    assert (error.code, error.type) == (404, "column_index_not_found")


def test_indexes_are_real_sqlite_indexes(
    tables: TablesDB, client: Client, database_id: str, table_id: str, local_server: LocalServer
) -> None:
    unique_index(tables, client, database_id, table_id, "u_email", "email")
    with sqlite3.connect(local_server.db_path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'i_%_u_email'"
        ).fetchall()
    assert len(rows) >= 1 and any("UNIQUE" in (r[0] or "") for r in rows)


def test_unique_index_rejects_duplicates(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    unique_index(tables, client, database_id, table_id, "u_title", "title")
    tables.create_row(database_id, table_id, "a", {"title": "same"})
    error = error_of(tables.create_row, database_id, table_id, "b", {"title": "same"})
    assert (error.code, error.type) == (409, "row_unique_constraint_violation")
    assert "requested ID" not in error.message
    error = error_of(tables.create_row, database_id, table_id, "a", {"title": "other"})
    assert (error.code, error.type) == (409, "row_already_exists")


def test_unique_index_over_duplicate_data_fails(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_rows(database_id, table_id, [{"title": "x"}, {"title": "x"}])
    body = unique_index(tables, client, database_id, table_id, "u_dup", "title")
    assert body["status"] == "failed" and body["error"]
    tables.delete_index(database_id, table_id, "u_dup")


@pytest.mark.parametrize(
    ("params", "status", "error_type"),
    [
        ({"type": "fulltext", "columns": ["views"]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": []}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["title", "title"]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["tags"]}, 400, "index_invalid"),
        ({"type": "key", "columns": ["body"]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["title"], "lengths": [200]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["nope"]}, 400, "column_unknown"),
        ({"type": "trigram", "columns": ["title"]}, 400, "general_argument_invalid"),
        ({"type": "spatial", "columns": ["title"]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["views"], "lengths": [4]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["title"], "lengths": [10, 10]}, 400, "column_index_invalid"),
        ({"type": "key", "columns": ["$createdAt"], "lengths": [4]}, 400, "column_index_invalid"),
        (
            {"type": "key", "columns": ["title", "$id"], "lengths": [None, 700]},
            400,
            "column_index_invalid",
        ),
    ],
)
def test_invalid_indexes(
    client: Client, database_id: str, table_id: str, params: dict, status: int, error_type: str
) -> None:
    error = error_of(
        raw,
        client,
        "post",
        f"/tablesdb/{database_id}/tables/{table_id}/indexes",
        {"key": "bad", **params},
    )
    assert (error.code, error.type) == (status, error_type)


def test_fulltext_and_system_columns_and_long_text_with_length(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_index(database_id, table_id, "ft", TablesDBIndexType.FULLTEXT, ["body"])
    tables.create_index(database_id, table_id, "sys", TablesDBIndexType.KEY, ["$createdAt", "$id"])
    tables.create_index(
        database_id, table_id, "body_prefix", TablesDBIndexType.KEY, ["body"], lengths=[100]
    )
    for key in ("ft", "sys", "body_prefix"):
        assert wait_status(client, database_id, table_id, key, index=True)["status"] == "available"


def test_duplicate_key_and_column_not_available(
    tables: TablesDB, client: Client, database_id: str, table_id: str, local_server: LocalServer
) -> None:
    tables.create_index(database_id, table_id, "k", TablesDBIndexType.KEY, ["views"])
    error = error_of(
        tables.create_index, database_id, table_id, "K", TablesDBIndexType.KEY, ["title"]
    )
    assert (error.code, error.type) == (409, "column_index_already_exists")
    local_server.inject_fault(kind="column", key="pending", outcome="processing")
    tables.create_integer_column(database_id, table_id, "pending", False)
    error = error_of(
        tables.create_index, database_id, table_id, "p", TablesDBIndexType.KEY, ["pending"]
    )
    assert (error.code, error.type) == (400, "column_not_available")


def test_index_limit(tables: TablesDB, database_id: str) -> None:
    columns = [{"key": f"c{i}", "type": "integer", "required": False} for i in range(59)]
    indexes = [{"key": f"i{i}", "type": "key", "attributes": [f"c{i}"]} for i in range(58)]
    tables.create_table(database_id, "many", "many", columns=columns, indexes=indexes)
    error = error_of(
        tables.create_index, database_id, "many", "one_more", TablesDBIndexType.KEY, ["c58"]
    )
    assert (error.code, error.type) == (400, "column_index_limit_exceeded")


def test_inline_schema_is_available_at_once_and_all_or_nothing(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    table = tables.create_table(
        database_id,
        "inline",
        "inline",
        columns=COLUMNS,
        indexes=[
            {"key": "u", "type": "unique", "attributes": ["title"]},
        ],
    )
    assert all(c.status.value == "available" for c in table.columns)
    assert [i.status for i in table.indexes] == ["available"]
    error = error_of(
        tables.create_table,
        database_id,
        "broken",
        "broken",
        columns=[
            {"key": "ok", "type": "integer", "required": False},
            {"key": "unknown", "type": "blob", "required": False},
        ],
    )
    assert error.type == "general_argument_invalid"
    assert error.message.endswith("Invalid type for attribute 'unknown': blob")
    error = error_of(
        tables.create_table,
        database_id,
        "broken",
        "broken",
        columns=[
            {"key": "ok", "type": "integer", "required": False},
        ],
        indexes=[{"key": "i", "type": "key", "attributes": ["missing"]}],
    )
    assert error.type == "column_unknown"
    assert error_of(tables.get_table, database_id, "broken").type == "table_not_found"


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            [{"key": "a", "type": "integer"}, {"key": "A", "type": "integer"}],
            "Duplicate attribute key: A",
        ),
        ([{"type": "integer"}], "Attribute at index 0 is missing required field 'key'"),
        (
            [{"key": "a", "type": "integer", "required": True, "default": 1}],
            "Attribute 'a' cannot have a default value when required is true",
        ),
        (
            [{"key": "r", "type": "relationship"}],
            "Relationship attributes cannot be created inline. Use the create relationship "
            "endpoint instead.",
        ),
        ([{"key": "s", "type": "varchar", "size": 2, "default": "long"}], "Attribute 's': "),
    ],
)
def test_inline_column_errors(
    client: Client, database_id: str, columns: list, message: str
) -> None:
    error = error_of(
        raw,
        client,
        "post",
        f"/tablesdb/{database_id}/tables",
        {"tableId": "bad", "name": "bad", "columns": columns},
    )
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert error.message.startswith(message)


@pytest.mark.parametrize(
    ("lengths", "error_type", "message"),
    [
        (["10"], "general_argument_invalid",
         "Invalid `lengths` param: Value must a valid array no longer than 100 items and Value "
         "must be a valid signed 32-bit integer between -2,147,483,648 and 2,147,483,647 or null"),
        ([2**31], "general_argument_invalid", None),
        ([-5], "column_index_invalid", "Negative index length provided for title"),
        ([10, 10], "column_index_invalid",
         "Invalid index lengths. Count of lengths must be equal or less than the number of "
         "attributes."),
    ],
)  # fmt: skip
def test_index_lengths_are_refused_as_appwrite_refuses_them(
    client: Client,
    database_id: str,
    table_id: str,
    lengths: list[object],
    error_type: str,
    message: str | None,
) -> None:
    error = error_of(
        raw,
        client,
        "post",
        f"/tablesdb/{database_id}/tables/{table_id}/indexes",
        {"key": "bad", "type": "key", "columns": ["title"], "lengths": lengths},
    )
    assert (error.code, error.type) == (400, error_type)
    assert message is None or error.message == message


def test_columns_and_indexes_lists_refuse_select(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    """Appwrite's Columns/Indexes query validators have no Select validator."""
    for lister in (tables.list_columns, tables.list_indexes):
        error = error_of(lister, database_id, table_id, queries=[Query.select(["key"])])
        assert (error.code, error.type) == (400, "general_argument_invalid")
        assert error.message == "Invalid `queries` param: Invalid query method: select"
    listed = tables.list_columns(database_id, table_id, queries=[Query.equal("type", "integer")])
    assert [c.key for c in listed.columns] == ["views"]
    error = error_of(
        tables.list_columns, database_id, table_id, queries=[Query.equal("default", [1])]
    )
    assert error.message == (
        "Invalid `queries` param: Invalid query: Attribute not found in schema: default"
    )


def test_metadata_lists_take_the_attributes_appwrite_allows(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    """Appwrite's ALLOWED_* lists less the names its metadata collections lack: an index list
    filters `attributes` (not `columns`), a table list `name`/`enabled` (not `rowSecurity`)."""
    tables.create_index(database_id, table_id, "by_title", TablesDBIndexType.KEY, ["title"])
    wait_status(client, database_id, table_id, "by_title", index=True)
    found = tables.list_indexes(database_id, table_id, [Query.contains("attributes", ["title"])])
    assert [i.key for i in found.indexes] == ["by_title"]
    for call, query, key in (
        (lambda q: tables.list_indexes(database_id, table_id, q),
         Query.contains("columns", ["title"]), "columns"),
        (lambda q: tables.list_tables(database_id, q), Query.equal("rowSecurity", [True]),
         "rowSecurity"),
        (lambda q: tables.list(q), Query.equal("enabled", [True]), "enabled"),
    ):  # fmt: skip
        error = error_of(call, [query])
        assert (error.code, error.type) == (400, "general_argument_invalid")
        assert error.message == (
            f"Invalid `queries` param: Invalid query: Attribute not found in schema: {key}"
        )
    assert tables.list_tables(database_id, [Query.equal("enabled", [True])]).total == 1
