"""Spatial columns (point, line, polygon) through the official SDK: create/get/update/delete,
defaults and required, values in rows (stored and answered as coordinate arrays), invalid
coordinates refused, spatial indexes."""

from __future__ import annotations

from typing import Any

import pytest
from appwrite.client import Client
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw, wait_status

SQUARE = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
PATH = [[2.35, 48.85], [13.4, 52.52]]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(
        database_id,
        "places",
        "Places",
        columns=[
            {"key": "at", "type": "point", "required": True},
            {"key": "route", "type": "linestring", "required": False},
            {"key": "area", "type": "polygon", "required": False, "default": SQUARE},
        ],
    )
    return "places"


def test_spatial_columns_are_created_answered_updated_and_deleted(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    path = f"/tablesdb/{database_id}/tables/{table_id}/columns"
    assert [raw(client, "get", f"{path}/{k}")["type"] for k in ("at", "route", "area")] == [
        "point",
        "linestring",
        "polygon",
    ]
    assert raw(client, "get", f"{path}/area")["default"] == SQUARE
    made = tables.create_point_column(database_id, table_id, "home", False, [10, 20])
    assert made.type == "point" and made.default == [10.0, 20.0]
    assert wait_status(client, database_id, table_id, "home")["status"] == "available"
    line = tables.create_line_column(database_id, table_id, "trail", False, PATH)
    assert line.type == "linestring"
    wait_status(client, database_id, table_id, "trail")
    updated = tables.update_point_column(database_id, table_id, "home", False, None, "base")
    assert (updated.key, updated.default) == ("base", None)
    error = error_of(tables.create_point_column, database_id, table_id, "r", True, [1, 2])
    assert error.type == "column_default_unsupported"
    tables.delete_column(database_id, table_id, "trail")


def test_rows_store_and_answer_coordinates(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    row = tables.create_row(database_id, table_id, "p", {"at": [2.35, 48.85], "route": PATH})
    assert row.data["at"] == [2.35, 48.85] and row.data["route"] == PATH
    assert row.data["area"] == SQUARE  # the default
    moved = tables.update_row(database_id, table_id, "p", {"at": [0, 0]})
    assert moved.data["at"] == [0.0, 0.0]
    assert tables.get_row(database_id, table_id, "p").data["route"] == PATH


@pytest.mark.parametrize(
    "data",
    [
        {"at": [181, 0]},
        {"at": [0, 91]},
        {"at": [1]},
        {"at": "POINT(1 2)"},
        {"at": [0, 0], "route": [[0, 0]]},
        {"at": [0, 0], "area": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},  # not closed
    ],
)
def test_invalid_coordinates_are_refused(
    tables: TablesDB, database_id: str, table_id: str, data: dict[str, Any]
) -> None:
    error = error_of(tables.create_row, database_id, table_id, "bad", data)
    assert (error.code, error.type) == (400, "row_invalid_structure")
    assert error_of(tables.create_row, database_id, table_id, "x", {"route": PATH}).type == (
        "row_invalid_structure"
    )  # `at` is required


def test_spatial_index_takes_one_spatial_column(
    tables: TablesDB, client: Client, database_id: str, table_id: str
) -> None:
    tables.create_index(database_id, table_id, "by_at", TablesDBIndexType.SPATIAL, ["at"])
    assert wait_status(client, database_id, table_id, "by_at", index=True)["status"] == "available"
    tables.create_table(database_id, "t2", "T2", columns=[{"key": "n", "type": "integer",
                                                            "required": False}])  # fmt: skip
    error = error_of(tables.create_index, database_id, "t2", "s", TablesDBIndexType.SPATIAL, ["n"])
    assert (error.code, error.type) == (400, "column_index_invalid")


def test_distance_queries(tables: TablesDB, database_id: str, table_id: str) -> None:
    paris, berlin = [2.3522, 48.8566], [13.405, 52.52]
    tables.create_row(database_id, table_id, "paris", {"at": paris})
    tables.create_row(database_id, table_id, "berlin", {"at": berlin})

    def ids(*queries: str) -> set[str]:
        return {r.id for r in tables.list_rows(database_id, table_id, list(queries)).rows}

    assert ids(Query.distance_less_than("at", paris, 500_000)) == {"paris"}
    assert ids(Query.distance_greater_than("at", paris, 870_000)) == {"berlin"}
    assert ids(Query.distance_less_than("at", [0, 0], 50, False)) == {"paris"}
    assert ids(Query.distance_less_than("route", paris, 1)) == set()
    error = error_of(
        tables.list_rows, database_id, "places", [Query.distance_less_than("nope", paris, 1)]
    )
    assert error.type == "general_query_invalid"
