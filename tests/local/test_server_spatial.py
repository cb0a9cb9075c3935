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
    assert ids(Query.distance_less_than("route", paris, 1, False)) == set()
    # utopia's MariaDB adapter measures meters between points only
    error = error_of(
        tables.list_rows, database_id, "places", [Query.distance_less_than("route", paris, 1)]
    )
    assert (error.code, error.type) == (400, "general_query_invalid")
    assert error.message == "Distance in meters is not supported between linestring and point"
    error = error_of(
        tables.list_rows, database_id, "places", [Query.distance_less_than("nope", paris, 1)]
    )
    assert error.type == "general_query_invalid"


def test_geometry_predicates(tables: TablesDB, database_id: str, table_id: str) -> None:
    """intersects, crosses, overlaps, touches, equal, contains and their negations, as the
    MariaDB adapter's ST_* functions answer them (planar)."""
    rows = {
        "inside": {"at": [0.5, 0.5], "route": [[0.5, 0.5], [0.6, 0.6]], "area": SQUARE},
        "edge": {"at": [1, 0.5], "route": [[-1, 0.5], [2, 0.5]], "area": [[[1, 0], [2, 0],
                 [2, 1], [1, 1], [1, 0]]]},
        "far": {"at": [5, 5], "route": [[5, 5], [6, 6]], "area": [[[0.5, 0.5], [3, 0.5],
                [3, 3], [0.5, 3], [0.5, 0.5]]]},
    }  # fmt: skip
    for row_id, data in rows.items():
        tables.create_row(database_id, table_id, row_id, data)

    def ids(*queries: str) -> set[str]:
        return {r.id for r in tables.list_rows(database_id, table_id, list(queries)).rows}

    assert ids(Query.intersects("at", SQUARE)) == {"inside", "edge"}
    assert ids(Query.not_intersects("at", SQUARE)) == {"far"}
    assert ids(Query.contains("area", [[0.25, 0.25]])) == {"inside"}
    assert ids(Query.not_contains("area", [[0.25, 0.25]])) == {"edge", "far"}
    assert ids(Query.touches("area", SQUARE)) == {"edge"}  # shares only an edge
    assert ids(Query.touches("at", SQUARE)) == {"edge"}  # on the boundary
    assert ids(Query.overlaps("area", SQUARE)) == {"far"}  # partly in, partly out
    assert ids(Query.not_overlaps("area", SQUARE)) == {"inside", "edge"}
    assert ids(Query.crosses("route", SQUARE)) == {"edge"}  # through the square and out
    assert ids(Query.crosses("route", [[0.55, 0.52], [0.55, 0.6]])) == {"inside"}  # X on lines
    assert ids(Query.equal("area", [SQUARE])) == {"inside"}
    assert ids(Query.not_equal("at", [[5, 5]])) == {"inside", "edge"}
    assert ids(Query.crosses("area", PATH)) == set()  # MariaDB: NULL for a polygon first
    assert ids(Query.not_crosses("area", PATH)) == set()
    for query, message in (
        (Query.intersects("$id", SQUARE),
         'Invalid query: Spatial query "intersects" cannot be applied on non-spatial '
         "attribute: $id"),
        (Query.intersects("at", "x"), "Invalid query: Spatial data must be an array"),
        ('{"method":"covers","attribute":"area","values":[[1,2]]}',
         "Invalid query method: covers"),
    ):  # fmt: skip
        error = error_of(tables.list_rows, database_id, table_id, [query])
        assert (error.code, error.type, error.message) == (400, "general_query_invalid", message)
