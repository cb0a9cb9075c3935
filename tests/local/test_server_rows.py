"""Rows through the official SDK: create (single/bulk), upsert, update (single/by query),
delete (single/by query), increment/decrement, structure validation, defaults, timestamps."""

from __future__ import annotations

from typing import Any

import pytest
from appwrite.client import Client
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw, wait_status

from workbook.local.server import LocalServer

COLUMNS: list[dict[str, Any]] = [
    {"key": "title", "type": "varchar", "size": 20, "required": True},
    {"key": "views", "type": "integer", "required": False, "min": 0, "max": 1000, "default": 0},
    {"key": "score", "type": "double", "required": False},
    {"key": "live", "type": "boolean", "required": False, "default": False},
    {"key": "at", "type": "datetime", "required": False},
    {"key": "mail", "type": "email", "required": False},
    {"key": "site", "type": "url", "required": False},
    {"key": "ip", "type": "ip", "required": False},
    {"key": "kind", "type": "enum", "elements": ["a", "b"], "required": False},
    {"key": "tags", "type": "varchar", "size": 10, "required": False, "array": True},
    {"key": "body", "type": "longtext", "required": False},
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "posts", "Posts", columns=COLUMNS)
    return "posts"


def test_create_applies_defaults_and_answers_the_row_shape(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    body = raw(
        client,
        "post",
        f"/tablesdb/{database_id}/tables/{table_id}/rows",
        {
            "rowId": "first",
            "data": {
                "title": "Hi",
                "tags": ["x", "y"],
                "at": "2024-05-06T07:08:09+02:00",
                "score": 2,
            },
        },
    )
    assert body["$id"] == "first" and body["$sequence"] == "1"
    assert (body["$tableId"], body["$databaseId"]) == (table_id, database_id)
    assert body["$permissions"] == []
    assert body["views"] == 0 and body["live"] is False and body["tags"] == ["x", "y"]
    assert body["at"] == "2024-05-06T05:08:09.000+00:00" and body["score"] == 2.0
    assert body["mail"] is None and body["body"] is None
    row = tables.get_row(database_id, table_id, "first")
    assert row.sequence == "1" and row.data["title"] == "Hi"
    generated = tables.create_row(database_id, table_id, "unique()", {"title": "Two"})
    assert len(generated.id) == 20 and generated.sequence == "2"


def test_create_keeps_given_timestamps_and_strips_read_only_fields(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    row = tables.create_row(
        database_id,
        table_id,
        "old",
        {
            "title": "Old",
            "$createdAt": "2001-01-01T00:00:00.000+00:00",
            "$updatedAt": "2002-02-02T00:00:00Z",
            "$sequence": "999",
            "$tableId": "zzz",
            "$databaseId": "zzz",
        },
        permissions=['read("any")'],
    )
    assert row.createdat == "2001-01-01T00:00:00.000+00:00"
    assert row.updatedat == "2002-02-02T00:00:00.000+00:00"
    assert row.sequence != "999" and row.tableid == table_id
    assert row.permissions == ['read("any")']


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, None),
        ({"views": 1}, 'Missing required attribute "title"'),
        ({"title": "x", "nope": 1}, 'Unknown attribute: "nope"'),
        ({"title": 5}, 'Attribute "title" has invalid type'),
        ({"title": "x" * 21}, 'Attribute "title" has invalid type'),
        ({"title": "x", "views": 1001}, "Value must be a valid range between 0 and 1,000"),
        ({"title": "x", "views": 1.5}, 'Attribute "views" has invalid type'),
        ({"title": "x", "views": True}, 'Attribute "views" has invalid type'),
        ({"title": "x", "score": "1"}, 'Attribute "score" has invalid type'),
        ({"title": "x", "live": 1}, 'Attribute "live" has invalid type'),
        ({"title": "x", "at": "invalid-date"}, 'Attribute "at" has invalid type'),
        ({"title": "x", "mail": "nope"}, 'Attribute "mail" has invalid format'),
        ({"title": "x", "site": "nope"}, 'Attribute "site" has invalid format'),
        ({"title": "x", "ip": "1.2.3"}, 'Attribute "ip" has invalid format'),
        ({"title": "x", "kind": "c"}, 'Attribute "kind" has invalid format'),
        ({"title": "x", "tags": "solo"}, 'Attribute "tags" must be an array'),
        ({"title": "x", "tags": ["much too long"]}, "Attribute \"tags['0']\" has invalid"),
        ({"title": "x", "$weird": 1}, 'Unknown attribute: "$weird"'),
    ],
)
def test_invalid_structure(
    tables: TablesDB, database_id: str, table_id: str, data: dict[str, Any], reason: str | None
) -> None:
    error = error_of(tables.create_row, database_id, table_id, "r", data)
    assert error.code == 400
    if reason is None:
        assert error.type == "row_missing_data"
        return
    assert error.type == "row_invalid_structure"
    assert error.message.startswith("Invalid document structure: ")
    assert reason in error.message


def test_data_and_rows_together_and_missing_row_id(
    client: Client, database_id: str, table_id: str
) -> None:
    path = f"/tablesdb/{database_id}/tables/{table_id}/rows"
    error = error_of(
        raw, client, "post", path, {"rowId": "a", "data": {"title": "x"}, "rows": [{"title": "y"}]}
    )
    assert error.type == "general_bad_request"
    error = error_of(raw, client, "post", path, {"data": {"title": "x"}})
    assert error.type == "row_missing_data"


def test_bulk_create_limit_and_atomicity(tables: TablesDB, database_id: str, table_id: str) -> None:
    created = tables.create_rows(
        database_id, table_id, [{"$id": f"r{i}", "title": f"t{i}"} for i in range(100)]
    )
    assert created.total == 100 and created.rows[0].id == "r0"
    error = error_of(
        tables.create_rows, database_id, table_id, [{"title": "x"} for _ in range(101)]
    )
    assert (error.code, error.type) == (400, "general_argument_invalid")
    error = error_of(
        tables.create_rows,
        database_id,
        table_id,
        [{"$id": "new1", "title": "ok"}, {"$id": "new2", "title": 3}],
    )
    assert error.type == "row_invalid_structure"
    assert tables.list_rows(database_id, table_id, [Query.equal("$id", "new1")]).total == 0


def test_upsert_single_and_bulk(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    path = f"/tablesdb/{database_id}/tables/{table_id}/rows"
    first = raw(client, "put", path + "/u1", {"data": {"title": "One", "views": 3}})
    assert first["title"] == "One" and first["views"] == 3
    again = raw(client, "put", path + "/u1", {"data": {"title": "Uno"}})
    assert again["title"] == "Uno" and again["views"] == 3
    assert again["$sequence"] == first["$sequence"]
    error = error_of(raw, client, "put", path + "/u1", {"data": {"views": 4}})
    assert error.type == "row_invalid_structure" and '"title"' in error.message
    result = tables.upsert_rows(
        database_id,
        table_id,
        [
            {"$id": "u1", "title": "Uno", "views": 9},
            {"$id": "u2", "title": "Two"},
        ],
    )
    assert result.total == 2
    assert [r.data.get("views") for r in result.rows] == [9, 0]
    assert tables.get_row(database_id, table_id, "u1").data["title"] == "Uno"
    error = error_of(
        tables.upsert_rows, database_id, table_id, [{"title": "x"} for _ in range(101)]
    )
    assert error.type == "general_argument_invalid"


def test_update_single(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_row(database_id, table_id, "a", {"title": "A", "views": 1})
    row = tables.update_row(database_id, table_id, "a", {"views": 2, "score": 1.5})
    assert (row.data["title"], row.data["views"], row.data["score"]) == ("A", 2, 1.5)
    assert row.updatedat >= row.createdat
    row = tables.update_row(database_id, table_id, "a", permissions=['read("any")'])
    assert row.permissions == ['read("any")']
    error = error_of(tables.update_row, database_id, table_id, "a", {"title": None})
    assert error.type == "row_invalid_structure"
    error = error_of(tables.update_row, database_id, table_id, "missing", {"views": 1})
    assert (error.code, error.type) == (404, "row_not_found")


def test_bulk_update_and_delete_by_query(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_rows(
        database_id, table_id, [{"$id": f"r{i}", "title": f"t{i}", "views": i} for i in range(10)]
    )
    updated = tables.update_rows(
        database_id, table_id, {"live": True}, [Query.greater_than_equal("views", 5)]
    )
    assert updated.total == 5 and all(r.data["live"] for r in updated.rows)
    live = tables.list_rows(database_id, table_id, [Query.equal("live", True)])
    assert sorted(r.id for r in live.rows) == [f"r{i}" for i in range(5, 10)]
    deleted = tables.delete_rows(database_id, table_id, [Query.less_than("views", 3)])
    assert deleted.total == 3 and sorted(r.id for r in deleted.rows) == ["r0", "r1", "r2"]
    assert tables.list_rows(database_id, table_id).total == 7
    everything = tables.delete_rows(database_id, table_id)
    assert everything.total == 7 and tables.list_rows(database_id, table_id).total == 0


def test_delete_single(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_row(database_id, table_id, "a", {"title": "A"})
    assert tables.delete_row(database_id, table_id, "a") == b""
    assert error_of(tables.delete_row, database_id, table_id, "a").type == "row_not_found"


def test_increment_and_decrement(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_row(database_id, table_id, "c", {"title": "C", "views": 5, "score": 1.0})
    assert tables.increment_row_column(database_id, table_id, "c", "views").data["views"] == 6
    assert tables.increment_row_column(database_id, table_id, "c", "views", 4).data["views"] == 10
    assert tables.decrement_row_column(database_id, table_id, "c", "views", 3).data["views"] == 7
    row = tables.increment_row_column(database_id, table_id, "c", "score", 0.5)
    assert row.data["score"] == 1.5
    error = error_of(tables.increment_row_column, database_id, table_id, "c", "views", 5, max=10)
    assert (error.code, error.type) == (400, "column_limit_exceeded")
    error = error_of(tables.decrement_row_column, database_id, table_id, "c", "views", 5, min=3)
    assert error.type == "column_limit_exceeded"
    error = error_of(tables.increment_row_column, database_id, table_id, "c", "title")
    assert error.type == "column_type_invalid"
    error = error_of(tables.increment_row_column, database_id, table_id, "nope", "views")
    assert error.type == "row_not_found"
    error = error_of(tables.increment_row_column, database_id, table_id, "c", "views", 2000)
    assert error.type == "row_invalid_structure"


def test_list_paging_total_and_select(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_rows(
        database_id,
        table_id,
        [{"$id": f"r{i:02d}", "title": f"t{i}", "views": i} for i in range(30)],
    )
    page = tables.list_rows(database_id, table_id)
    assert page.total == 30 and len(page.rows) == 25
    page = tables.list_rows(database_id, table_id, [Query.limit(5), Query.offset(5)], total=False)
    assert page.total == 0 and [r.id for r in page.rows] == [f"r{i:02d}" for i in range(5, 10)]
    after = tables.list_rows(database_id, table_id, [Query.cursor_after("r27")])
    assert [r.id for r in after.rows] == ["r28", "r29"]
    selected = tables.list_rows(database_id, table_id, [Query.select(["title"]), Query.limit(1)])
    assert selected.rows[0].data == {"title": "t0"}
    row = tables.get_row(database_id, table_id, "r03", [Query.select(["views"])])
    assert row.data == {"views": 3} and row.id == "r03"


def test_rows_only_see_available_columns(
    tables: TablesDB, client: Client, database_id: str, table_id: str, local_server: LocalServer
) -> None:
    local_server.inject_fault(kind="column", key="later", outcome="processing")
    tables.create_integer_column(database_id, table_id, "later", False)
    error = error_of(tables.create_row, database_id, table_id, "x", {"title": "x", "later": 1})
    assert error.type == "row_invalid_structure"
    row = tables.create_row(database_id, table_id, "x", {"title": "x"})
    assert "later" not in row.data
    tables.create_integer_column(database_id, table_id, "soon", False, default=7)
    wait_status(client, database_id, table_id, "soon")
    assert tables.get_row(database_id, table_id, "x").data["soon"] is None
    assert tables.create_row(database_id, table_id, "y", {"title": "y"}).data["soon"] == 7


def test_transactions_are_refused(tables: TablesDB, database_id: str, table_id: str) -> None:
    error = error_of(tables.list_rows, database_id, table_id, transaction_id="t1")
    assert error.code == 404


def test_create_route_rules(client: Client, database_id: str, table_id: str) -> None:
    path = f"/tablesdb/{database_id}/tables/{table_id}/rows"
    error = error_of(raw, client, "post", path, {"rows": [{"title": "x"}], "rowId": "a"})
    assert error.type == "general_bad_request" and '"rowId"' in error.message
    error = error_of(
        raw, client, "post", path, {"rows": [{"title": "x"}], "permissions": ['read("any")']}
    )
    assert error.type == "general_bad_request"
    error = error_of(raw, client, "post", path, {"rowId": "a", "data": {}})
    assert error.type == "row_missing_data"
    body = raw(
        client,
        "post",
        path,
        {"rowId": "w", "data": {"title": "w"}, "permissions": ['write("any")', 'read("any")']},
    )
    assert body["$permissions"] == ['update("any")', 'delete("any")', 'read("any")']


def test_update_validates_the_merged_row(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_row(database_id, table_id, "old", {"title": "Old"})
    tables.create_row(database_id, table_id, "old2", {"title": "Old2"})
    tables.create_integer_column(database_id, table_id, "must", True)
    wait_status(client, database_id, table_id, "must")
    error = error_of(tables.update_row, database_id, table_id, "old", {"views": 1})
    assert error.type == "row_invalid_structure" and '"must"' in error.message
    assert tables.update_row(database_id, table_id, "old", {"must": 1}).data["must"] == 1
    error = error_of(tables.update_rows, database_id, table_id, {})
    assert error.type == "row_missing_payload"
    bulk = tables.update_rows(database_id, table_id, {"views": 2}, [Query.equal("$id", "old2")])
    assert bulk.total == 1 and bulk.rows[0].data["must"] is None
