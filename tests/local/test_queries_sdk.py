"""Row queries end to end: the official SDK's `Query` builders against the local server.

The session's server (tests/conftest.py), one table for the module (inline columns
are available at once); tests that write use tables of their own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from workbook.local.server import LocalServer

COLUMNS: list[dict[str, Any]] = [
    {"key": "name", "type": "string", "size": 64, "required": False},
    {"key": "age", "type": "integer", "required": False},
    {"key": "score", "type": "double", "required": False},
    {"key": "active", "type": "boolean", "required": False},
    {"key": "born", "type": "datetime", "required": False},
    {"key": "bio", "type": "string", "size": 500, "required": False},
    {"key": "tags", "type": "string", "size": 32, "required": False, "array": True},
]
INDEXES = [{"key": "bio_search", "type": "fulltext", "columns": ["bio"]}]
NAMES = ["ann", "bob", "cy", "Dee"]


def _row(n: int) -> dict[str, Any]:
    return {
        "$id": f"r{n:03d}",
        "name": NAMES[n % 4],
        "age": None if n % 9 == 4 else n % 5,
        "score": [0.5, 1.0, 2.25][n % 3],
        "active": n % 2 == 0,
        "born": f"19{50 + n % 7}-0{1 + n % 8}-15T12:00:00.000+00:00",
        "bio": ["Poet of science", "Computing machinery", "Goto considered harmful"][n % 3],
        "tags": [["math"], ["math", "navy"], []][n % 3],
    }


ROWS = [_row(n) for n in range(34)]


@pytest.fixture(scope="module")
def sdk(local_server: LocalServer) -> TablesDB:
    """Module-wide SDK service on the session's server (conftest's `tables` is per test)."""
    client = Client().set_endpoint(local_server.endpoint).set_project(local_server.project_id)
    return TablesDB(client.set_key(local_server.api_key))


@pytest.fixture(scope="module")
def table(sdk: TablesDB) -> tuple[str, str]:
    database_id = "q" + uuid.uuid4().hex[:10]
    sdk.create(database_id, database_id)
    sdk.create_table(database_id, "people", "people", columns=COLUMNS, indexes=INDEXES)
    sdk.create_rows(database_id, "people", ROWS)
    return database_id, "people"


def _list(tables: TablesDB, table: tuple[str, str], queries: list[str]) -> Any:
    return tables.list_rows(table[0], table[1], queries=queries)


def _ids(tables: TablesDB, table: tuple[str, str], queries: list[str]) -> list[str]:
    return [row.id for row in _list(tables, table, queries).rows]


def _error(tables: TablesDB, table: tuple[str, str], queries: list[str]) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        _list(tables, table, queries)
    return caught.value


def _where(predicate: Any) -> set[str]:
    return {str(row["$id"]) for row in ROWS if predicate(row)}


@pytest.mark.parametrize(
    ("queries", "predicate"),
    [
        ([Query.equal("name", ["ann", "cy"])], lambda r: r["name"] in ("ann", "cy")),
        ([Query.not_equal("name", "ann")], lambda r: r["name"] != "ann"),
        ([Query.greater_than("age", 2)], lambda r: r["age"] is not None and r["age"] > 2),
        ([Query.between("score", 0.6, 2.5)], lambda r: r["score"] > 0.6),
        ([Query.is_null("age")], lambda r: r["age"] is None),
        ([Query.equal("active", True)], lambda r: r["active"]),
        ([Query.starts_with("name", "D")], lambda r: r["name"] == "Dee"),
        ([Query.contains("tags", "navy")], lambda r: "navy" in r["tags"]),
        ([Query.contains("bio", "machine")], lambda r: "machine" in r["bio"]),
        ([Query.search("bio", "considered")], lambda r: "considered" in r["bio"]),
        ([Query.not_search("bio", "poet")], lambda r: "Poet" not in r["bio"]),
        (
            [Query.less_than("born", "1953-01-01T00:00:00+01:00")],
            lambda r: r["born"] < "1952-12-31T23",
        ),
        (
            [
                Query.or_queries(
                    [
                        Query.equal("$id", "r001"),
                        Query.and_queries([Query.equal("name", "cy"), Query.equal("active", True)]),
                    ]
                )
            ],
            lambda r: r["$id"] == "r001" or (r["name"] == "cy" and r["active"]),
        ),
    ],
)
def test_filters_through_the_sdk(
    tables: TablesDB, table: tuple[str, str], queries: list[str], predicate: Any
) -> None:
    expected = _where(predicate)
    answer = _list(tables, table, [*queries, Query.limit(100)])
    assert {row.id for row in answer.rows} == expected
    assert answer.total == len(expected)


def test_default_page_total_and_select(tables: TablesDB, table: tuple[str, str]) -> None:
    answer = _list(tables, table, [])
    assert len(answer.rows) == 25 and answer.total == len(ROWS)
    assert [row.id for row in answer.rows] == [str(r["$id"]) for r in ROWS[:25]]
    picked = tables.list_rows(table[0], table[1], queries=[Query.select(["name"]), Query.limit(1)])
    row = picked.rows[0]
    assert row.data.get("name") == "ann" and "age" not in row.data
    assert row.id == "r000" and row.sequence == "1"


@pytest.mark.parametrize(
    "ordering",
    [
        [],
        [Query.order_asc("name")],
        [Query.order_desc("score"), Query.order_asc("name")],
        [Query.order_desc("$createdAt")],
        [Query.order_asc("active"), Query.order_desc("$id")],
    ],
)
def test_cursor_pages_cover_everything_once(
    tables: TablesDB, table: tuple[str, str], ordering: list[str]
) -> None:
    everything = _ids(tables, table, [*ordering, Query.limit(1000)])
    assert sorted(everything) == sorted(str(r["$id"]) for r in ROWS)
    forward: list[str] = []
    page = _ids(tables, table, [*ordering, Query.limit(6)])
    while page:
        forward += page
        page = _ids(tables, table, [*ordering, Query.limit(6), Query.cursor_after(page[-1])])
    assert forward == everything
    backward = [everything[-1]]
    page = _ids(tables, table, [*ordering, Query.limit(6), Query.cursor_before(everything[-1])])
    while page:
        backward = page + backward
        page = _ids(tables, table, [*ordering, Query.limit(6), Query.cursor_before(page[0])])
    assert backward == everything


@pytest.mark.parametrize(
    ("queries", "code", "kind", "message"),
    [
        (
            [Query.equal("nope", "x")],
            400,
            "general_query_invalid",
            "Invalid query: Attribute not found in schema: nope",
        ),
        (
            [Query.equal("age", "x")],
            400,
            "general_query_invalid",
            'Invalid query: Query value is invalid for attribute "age"',
        ),
        (
            [Query.search("name", "x")],
            400,
            "general_query_invalid",
            'Searching by attribute "name" requires a fulltext index.',
        ),
        ([Query.limit(0)], 400, "general_query_invalid", "Invalid query: Invalid limit:"),
        (['{"method":"nope"}'], 400, "general_query_invalid", "Invalid query method: nope"),
        (
            [Query.cursor_after("ghost")],
            400,
            "general_cursor_not_found",
            "Row 'ghost' for the 'cursor' value not found.",
        ),
        (
            [Query.order_asc("age"), Query.cursor_after("r004")],
            400,
            "database_query_order_null",
            "The order column 'age' had a null value.",
        ),
        ([Query.limit(1)] * 101, 400, "general_argument_invalid", "Invalid `queries` param:"),
    ],
)
def test_refusals_reach_the_sdk_as_appwrite_errors(
    tables: TablesDB,
    table: tuple[str, str],
    queries: list[str],
    code: int,
    kind: str,
    message: str,
) -> None:
    error = _error(tables, table, queries)
    assert (error.code, error.type) == (code, kind)
    assert str(error.message).startswith(message)


def test_bulk_update_and_delete_by_query(tables: TablesDB, database_id: str) -> None:
    tables.create_table(database_id, "bulk", "bulk", columns=COLUMNS)
    tables.create_rows(database_id, "bulk", ROWS[:10])
    updated = tables.update_rows(
        database_id, "bulk", data={"bio": "updated"}, queries=[Query.contains("tags", "navy")]
    )
    navy = _where(lambda r: "navy" in r["tags"] and int(str(r["$id"])[1:]) < 10)
    assert {row.id for row in updated.rows} == navy
    assert {
        row.id
        for row in tables.list_rows(database_id, "bulk", [Query.equal("bio", "updated")]).rows
    } == navy
    deleted = tables.delete_rows(database_id, "bulk", queries=[Query.equal("bio", "updated")])
    assert deleted.total == len(navy)
    assert tables.list_rows(database_id, "bulk").total == 10 - len(navy)


def test_awkward_values_survive_the_query_string(tables: TablesDB, database_id: str) -> None:
    tables.create_table(database_id, "awkward", "awkward", columns=COLUMNS)
    names = ["a&b=c#d", "ü 100% \"quoted\" 'single'", "plus+sign", "back\\slash", "[0]=x"]
    tables.create_rows(
        database_id, "awkward", [{"$id": f"w{n}", "name": name} for n, name in enumerate(names)]
    )
    for n, name in enumerate(names):
        found = tables.list_rows(database_id, "awkward", [Query.equal("name", name)])
        assert [row.id for row in found.rows] == [f"w{n}"]
        found = tables.list_rows(database_id, "awkward", [Query.starts_with("name", name[:3])])
        assert f"w{n}" in {row.id for row in found.rows}
    without_total = tables.list_rows(database_id, "awkward", [Query.limit(2)], total=False)
    assert without_total.total == 0 and len(without_total.rows) == 2
