"""Columns through the official SDK: every type's create/update/get shapes, the asynchronous
lifecycle, and Appwrite's validation rules and error types (reference §1.3, §2, §3)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw, wait_status

from workbook.local import table_schema
from workbook.local.server import LocalServer, make_state, start_local_server

INT_MAX = 9223372036854775807
FLOAT_MAX = 1.7976931348623157e308


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "t", "T")
    return "t"


def _path(database_id: str, table_id: str, suffix: str = "") -> str:
    return f"/tablesdb/{database_id}/tables/{table_id}/columns{suffix}"


CREATES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "varchar",
        {"size": 40, "default": "x"},
        {"type": "varchar", "size": 40, "default": "x", "encrypt": False},
    ),
    (
        "string",
        {"size": 70000},
        {"type": "string", "size": 70000, "default": None, "encrypt": False},
    ),
    ("text", {}, {"type": "text", "default": None, "encrypt": False}),
    ("mediumtext", {"default": "m"}, {"type": "mediumtext", "default": "m"}),
    ("longtext", {}, {"type": "longtext", "default": None}),
    ("integer", {}, {"type": "integer", "min": -INT_MAX - 1, "max": INT_MAX, "default": None}),
    (
        "integer",
        {"min": 0, "max": 10, "default": 5},
        {"type": "integer", "min": 0, "max": 10, "default": 5},
    ),
    ("bigint", {}, {"type": "bigint", "max": INT_MAX}),
    (
        "float",
        {"default": 1.5},
        {"type": "double", "min": -FLOAT_MAX, "max": FLOAT_MAX, "default": 1.5},
    ),
    ("boolean", {"default": True}, {"type": "boolean", "default": True}),
    (
        "datetime",
        {"default": "2024-01-02T03:04:05Z"},
        {"type": "datetime", "format": "datetime", "default": "2024-01-02T03:04:05.000+00:00"},
    ),
    ("email", {"default": "a@b.co"}, {"type": "string", "format": "email", "default": "a@b.co"}),
    ("url", {}, {"type": "string", "format": "url", "default": None}),
    ("ip", {"default": "10.0.0.1"}, {"type": "string", "format": "ip", "default": "10.0.0.1"}),
    (
        "enum",
        {"elements": ["a", "b"], "default": "b"},
        {"type": "string", "format": "enum", "elements": ["a", "b"], "default": "b"},
    ),
]


@pytest.mark.parametrize(("kind", "extra", "expected"), CREATES, ids=[c[0] for c in CREATES])
def test_create_each_type_answers_202_processing_then_available(
    client: Client,
    database_id: str,
    table_id: str,
    kind: str,
    extra: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    body = raw(
        client,
        "post",
        _path(database_id, table_id, f"/{kind}"),
        {"key": "c", "required": False, **extra},
    )
    assert body["status"] == "processing"
    assert body["key"] == "c" and body["required"] is False and body["array"] is False
    assert body["error"] == ""
    for field, value in expected.items():
        assert body[field] == value, field
    if kind == "integer":
        assert "size" not in body
    final = wait_status(client, database_id, table_id, "c")
    assert final["status"] == "available"
    assert {k: v for k, v in final.items() if k not in ("status",)} == {
        k: v for k, v in body.items() if k not in ("status",)
    }


def test_get_column_parses_into_the_right_models(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_email_column(database_id, table_id, "mail", False)
    tables.create_integer_column(database_id, table_id, "n", False, min=1, max=9)
    wait_status(client, database_id, table_id, "n")
    mail = tables.get_column(database_id, table_id, "mail")
    assert type(mail).__name__ == "ColumnEmail" and mail.format == "email"
    number = tables.get_column(database_id, table_id, "n")
    assert type(number).__name__ == "ColumnInteger" and (number.min, number.max) == (1, 9)
    listed = raw(client, "get", _path(database_id, table_id))
    assert listed["total"] == 2 and [c["key"] for c in listed["columns"]] == ["mail", "n"]
    table = raw(client, "get", f"/tablesdb/{database_id}/tables/{table_id}")
    assert [c["key"] for c in table["columns"]] == ["mail", "n"]
    assert (table["bytesMax"], table["bytesUsed"]) == (65535, 1067 + (4 * 254 + 1) + 4)


def test_required_with_default_and_array_with_default(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    error = error_of(
        tables.create_varchar_column, database_id, table_id, "a", 10, True, default="x"
    )
    assert (error.code, error.type) == (400, "column_default_unsupported")
    error = error_of(
        tables.create_integer_column, database_id, table_id, "b", False, default=1, array=True
    )
    assert error.type == "column_default_unsupported"


@pytest.mark.parametrize(
    ("kind", "params", "error_type"),
    [
        ("varchar", {"size": 0}, "general_argument_invalid"),
        ("varchar", {"size": -10}, "general_argument_invalid"),
        ("varchar", {"size": 16382}, "general_argument_invalid"),
        ("varchar", {}, "general_argument_invalid"),
        ("varchar", {"size": 3, "default": "long"}, "column_value_invalid"),
        ("varchar", {"size": 149, "encrypt": True}, "general_bad_request"),
        ("integer", {"min": 5, "max": 1}, "column_value_invalid"),
        ("integer", {"min": 0, "max": 3, "default": 4}, "column_value_invalid"),
        ("integer", {"default": "seven"}, "general_argument_invalid"),
        ("float", {"min": 2.5, "max": 1.0}, "column_value_invalid"),
        ("enum", {"elements": ["a"], "default": "z"}, "column_value_invalid"),
        ("enum", {"elements": []}, "general_argument_invalid"),
        ("enum", {"elements": ["a", ""]}, "general_argument_invalid"),
        ("email", {"default": "not-an-email"}, "general_argument_invalid"),
        ("url", {"default": "nope"}, "general_argument_invalid"),
        ("ip", {"default": "999.1.1.1"}, "general_argument_invalid"),
        ("datetime", {"default": "invalid-date"}, "general_argument_invalid"),
        ("boolean", {"default": "yes"}, "general_argument_invalid"),
        ("point", {"default": [200, 0]}, "general_argument_invalid"),
        ("polygon", {"default": [[[0, 0], [1, 0], [1, 1]]]}, "general_argument_invalid"),
        ("relationship", {"relatedTableId": "x", "type": "sideways"}, "general_argument_invalid"),
        ("blob", {}, "general_argument_invalid"),
    ],
)
def test_invalid_definitions(
    client: Client,
    database_id: str,
    table_id: str,
    kind: str,
    params: dict[str, Any],
    error_type: str,
) -> None:
    error = error_of(
        raw,
        client,
        "post",
        _path(database_id, table_id, f"/{kind}"),
        {"key": "k", "required": False, **params},
    )
    assert (error.code, error.type) == (400, error_type)


@pytest.mark.parametrize("key", ["_x", ".x", "-x", "a" * 37, "has space", "$id", "é"])
def test_invalid_keys(tables: TablesDB, database_id: str, table_id: str, key: str) -> None:
    error = error_of(tables.create_boolean_column, database_id, table_id, key, False)
    assert error.type == "general_argument_invalid"


def test_duplicate_keys_case_insensitive(tables: TablesDB, database_id: str, table_id: str) -> None:
    tables.create_boolean_column(database_id, table_id, "name", False)
    for key in ("name", "Name", "NAME"):
        error = error_of(tables.create_boolean_column, database_id, table_id, key, False)
        assert (error.code, error.type) == (409, "column_already_exists")


def test_unknown_table_and_database(tables: TablesDB, database_id: str) -> None:
    error = error_of(tables.create_boolean_column, database_id, "missing", "k", False)
    assert (error.code, error.type) == (404, "table_not_found")
    error = error_of(tables.create_boolean_column, "missing-db", "t", "k", False)
    assert (error.code, error.type) == (404, "database_not_found")
    error = error_of(tables.get_column, database_id, "missing", "k")
    assert error.type == "table_not_found"


def test_column_limit_by_row_width(tables: TablesDB, database_id: str) -> None:
    columns = [{"key": "c0", "type": "varchar", "size": 16000, "required": False}]
    tables.create_table(database_id, "wide", "wide", columns=columns)
    error = error_of(tables.create_varchar_column, database_id, "wide", "more", 4000, False)
    assert (error.code, error.type) == (400, "column_limit_exceeded")
    tables.create_text_column(database_id, "wide", "fine", False)


def test_update_columns_of_each_kind(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_table(
        database_id,
        "u",
        "u",
        columns=[
            {"key": "s", "type": "varchar", "size": 20, "required": False},
            {"key": "n", "type": "integer", "required": False},
            {"key": "f", "type": "double", "required": False},
            {"key": "e", "type": "enum", "elements": ["a"], "required": False},
            {"key": "b", "type": "boolean", "required": False},
            {"key": "d", "type": "datetime", "required": False},
            {"key": "m", "type": "email", "required": False},
            {"key": "t", "type": "text", "required": False},
        ],
    )
    s = tables.update_varchar_column(database_id, "u", "s", False, "dflt", size=30)
    assert (s.size, s.default) == (30, "dflt")
    n = raw(
        client,
        "patch",
        f"/tablesdb/{database_id}/tables/u/columns/integer/n",
        {"required": True, "default": None, "min": 1, "max": 100},
    )
    assert (n["required"], n["min"], n["max"], n["default"]) == (True, 1, 100, None)
    f = tables.update_float_column(database_id, "u", "f", False, 2.5, min=0.0, max=10.0)
    assert (f.min, f.max, f.default) == (0.0, 10.0, 2.5)
    e = tables.update_enum_column(database_id, "u", "e", ["a", "b", "c"], False, "c")
    assert e.elements == ["a", "b", "c"] and e.default == "c"
    b = tables.update_boolean_column(database_id, "u", "b", False, False, new_key="flag")
    assert b.key == "flag" and b.default is False
    d = tables.update_datetime_column(database_id, "u", "d", False, "2020-01-01T00:00:00+02:00")
    assert d.default == "2019-12-31T22:00:00.000+00:00"
    m = tables.update_email_column(database_id, "u", "m", False, None)
    assert m.default is None
    t = tables.update_text_column(database_id, "u", "t", False, "hello", new_key="body")
    assert t.key == "body"
    keys = [c["key"] for c in raw(client, "get", f"/tablesdb/{database_id}/tables/u")["columns"]]
    assert keys == ["s", "n", "f", "e", "flag", "d", "m", "body"]


def test_update_rules(tables: TablesDB, client: Client, database_id: str, table_id: str) -> None:
    tables.create_table(
        database_id,
        "r",
        "r",
        columns=[
            {"key": "s", "type": "varchar", "size": 20, "required": False},
            {"key": "n", "type": "integer", "required": False},
        ],
        indexes=[{"key": "by_s", "type": "key", "attributes": ["s"]}],
    )
    path = f"/tablesdb/{database_id}/tables/r/columns"
    error = error_of(raw, client, "patch", path + "/integer/n", {"required": False})
    assert error.message == 'Param "default" is not optional.'
    error = error_of(
        raw, client, "patch", path + "/varchar/n", {"required": False, "default": None}
    )
    assert error.type == "column_type_invalid"
    error = error_of(
        raw, client, "patch", path + "/integer/missing", {"required": False, "default": None}
    )
    assert (error.code, error.type) == (404, "column_not_found")
    error = error_of(
        tables.update_varchar_column, database_id, "r", "s", False, None, new_key="renamed"
    )
    assert (error.code, error.type) == (409, "column_index_dependency")
    error = error_of(tables.delete_column, database_id, "r", "s")
    assert (error.code, error.type) == (409, "column_index_dependency")
    error = error_of(tables.update_integer_column, database_id, "r", "n", True, 5)
    assert error.type == "column_default_unsupported"
    error = error_of(tables.update_integer_column, database_id, "r", "n", False, None, new_key="s")
    assert (error.code, error.type) == (409, "column_already_exists")
    tables.create_row(database_id, "r", "one", {"s": "x" * 15})
    error = error_of(tables.update_varchar_column, database_id, "r", "s", False, None, size=10)
    assert error.type == "column_invalid_resize"
    assert tables.update_varchar_column(database_id, "r", "s", False, None, size=15).size == 15


def test_update_needs_available_column(
    tables: TablesDB, client: Client, database_id: str, table_id: str, local_server: Any
) -> None:
    local_server.inject_fault(kind="column", key="slow", outcome="processing")
    tables.create_integer_column(database_id, table_id, "slow", False)
    error = error_of(tables.update_integer_column, database_id, table_id, "slow", False, None)
    assert (error.code, error.type) == (400, "column_not_available")


def test_delete_column_goes_deleting_then_404(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_integer_column(database_id, table_id, "n", False)
    wait_status(client, database_id, table_id, "n")
    tables.create_row(database_id, table_id, "r1", {"n": 4})
    tables.delete_column(database_id, table_id, "n")
    error = None
    for _ in range(10_000):
        try:
            raw(client, "get", _path(database_id, table_id, "/n"))
        except Exception as caught:  # noqa: BLE001 - waiting for the 404
            error = caught
            break
    assert error is not None and getattr(error, "type", None) == "column_not_found"
    row = tables.get_row(database_id, table_id, "r1")
    assert "n" not in row.data
    tables.create_varchar_column(database_id, table_id, "n", 5, False)
    wait_status(client, database_id, table_id, "n")
    assert tables.get_row(database_id, table_id, "r1").data["n"] is None


def test_list_columns_with_queries(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_table(
        database_id,
        "q",
        "q",
        columns=[{"key": f"c{i}", "type": "boolean", "required": i % 2 == 0} for i in range(5)],
    )
    path = f"/tablesdb/{database_id}/tables/q/columns"
    listed = raw(client, "get", path, {"queries": ['{"method":"limit","values":[2]}']})
    assert listed["total"] == 5 and [c["key"] for c in listed["columns"]] == ["c0", "c1"]
    listed = raw(
        client,
        "get",
        path,
        {"queries": ['{"method":"equal","attribute":"required","values":[true]}'], "total": False},
    )
    assert listed["total"] == 0 and [c["key"] for c in listed["columns"]] == ["c0", "c2", "c4"]


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server whose schema work takes a minute, so intermediate states can be observed."""
    with start_local_server(tmp_path_factory.mktemp("slow") / "s.db", schema_delay=60) as srv:
        yield srv


@pytest.fixture(scope="module")
def slow_tables(slow_server: LocalServer) -> TablesDB:
    client = Client().set_endpoint(slow_server.endpoint).set_project(slow_server.project_id)
    return TablesDB(client.set_key(slow_server.api_key))


def test_intermediate_states_processing_and_deleting(slow_tables: TablesDB) -> None:
    slow_tables.create("slow", "slow")
    slow_tables.create_table(
        "slow",
        "t",
        "t",
        columns=[
            {"key": "a", "type": "integer", "required": False},
        ],
        indexes=[{"key": "ia", "type": "key", "attributes": ["a"]}],
    )
    slow_tables.create_boolean_column("slow", "t", "b", False)
    assert slow_tables.get_column("slow", "t", "b").status.value == "processing"
    error = error_of(slow_tables.create_row, "slow", "t", "r", {"b": True})
    assert error.type == "row_invalid_structure"
    slow_tables.delete_index("slow", "t", "ia")
    assert slow_tables.get_index("slow", "t", "ia").status == "deleting"
    slow_tables.delete_column("slow", "t", "a")
    assert slow_tables.get_column("slow", "t", "a").status.value == "deleting"
    error = error_of(slow_tables.create_integer_column, "slow", "t", "a", False)
    assert error.type == "column_already_exists"


def test_column_count_limit(slow_server: LocalServer, slow_tables: TablesDB) -> None:
    """1010 user columns fit, the 1011th does not. The first 1010 are written through a
    second store on the same file (as a second server process would), to keep this quick."""
    slow_tables.create("count", "count")
    slow_tables.create_table("count", "many", "many")
    writer = make_state(slow_server.db_path, "other", "other-key", 0.0)
    for i in range(1010):
        table_schema.create_column(
            writer, "count", "many", "boolean", {"key": f"c{i}", "required": False}
        )
    writer.store.close()
    assert slow_tables.list_columns("count", "many").total == 1010
    error = error_of(slow_tables.create_boolean_column, "count", "many", "one_more", False)
    assert (error.code, error.type) == (400, "column_limit_exceeded")
    assert "'many'" in error.message


def test_enum_update_refuses_empty_elements(tables: TablesDB, database_id: str) -> None:
    tables.create_table(
        database_id,
        "e",
        "e",
        columns=[{"key": "k", "type": "enum", "elements": ["a"], "required": False}],
    )
    error = error_of(tables.update_enum_column, database_id, "e", "k", [], False, None)
    assert (error.code, error.type) == (400, "column_value_invalid")
    error = error_of(tables.update_enum_column, database_id, "e", "k", ["a", ""], False, None)
    assert error.type == "column_value_invalid"


def test_renaming_to_the_key_of_a_deleted_column_works_once_the_deletion_completed(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    """Once a deleted column is gone its key is free again, for a rename as for a create."""
    tables.create_varchar_column(database_id, table_id, "old", 10, False)
    tables.create_varchar_column(database_id, table_id, "keep", 10, False)
    for key in ("old", "keep"):
        wait_status(client, database_id, table_id, key)
    tables.create_row(database_id, table_id, "r", {"keep": "v"})
    tables.delete_column(database_id, table_id, "old")
    deadline = time.monotonic() + 5
    while True:  # `deleting` for the schema delay, then gone
        try:
            tables.get_column(database_id, table_id, "old")
        except AppwriteException as gone:
            assert gone.type == "column_not_found"
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    renamed = tables.update_varchar_column(
        database_id, table_id, "keep", False, None, new_key="old"
    )
    assert renamed.key == "old"
    assert tables.get_row(database_id, table_id, "r").data["old"] == "v"


def test_numeric_bounds_are_worded_as_utopia_words_them(
    client: Client, database_id: str, table_id: str
) -> None:
    """Integer params are utopia's Integer(false, 64); ranges use PHP's number_format."""
    body: dict[str, Any] = {"key": "n", "required": False, "min": "low"}
    error = error_of(raw, client, "post", _path(database_id, table_id, "/integer"), body)
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert error.message == (
        "Invalid `min` param: Value must be a valid signed 64-bit integer between "
        "-9,223,372,036,854,775,808 and 9,223,372,036,854,775,807 or null"
    )
    body = {"key": "f", "required": False, "min": 0.5, "max": 2.5, "default": 3}
    error = error_of(raw, client, "post", _path(database_id, table_id, "/float"), body)
    assert error.message == "Value must be a valid range between 1 and 3"  # half away from 0
