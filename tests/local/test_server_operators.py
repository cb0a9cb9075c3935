"""Atomic update operators as the SDK 27 `Operator` helper encodes them: numeric (capped by
max/min), array, string, boolean and date operators on update, upsert, bulk update and inside a
transaction; never on create; bad operators refused with Appwrite's type."""

from __future__ import annotations

from typing import Any

import pytest
from appwrite.client import Client
from appwrite.enums.relationship_type import RelationshipType
from appwrite.operator import Condition, Operator
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, wait_status

COLUMNS: list[dict[str, Any]] = [
    {"key": "n", "type": "integer", "required": False},
    {"key": "x", "type": "double", "required": False},
    {"key": "tags", "type": "varchar", "size": 10, "required": False, "array": True},
    {"key": "nums", "type": "integer", "required": False, "array": True},
    {"key": "name", "type": "varchar", "size": 40, "required": False},
    {"key": "on", "type": "boolean", "required": False},
    {"key": "at", "type": "datetime", "required": False},
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "t", "T", columns=COLUMNS)
    tables.create_row(
        database_id,
        "t",
        "r",
        {"n": 10, "x": 1.5, "tags": ["a", "b", "a"], "nums": [1, 5, 9], "name": "ab",
         "on": False, "at": "2024-01-31T00:00:00.000+00:00"},
    )  # fmt: skip
    return "t"


def _update(tables: TablesDB, database_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return tables.update_row(database_id, "t", "r", data).data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"n": Operator.increment(5)}, {"n": 15}),
        ({"n": Operator.increment(100, 50)}, {"n": 50}),
        ({"n": Operator.decrement(30, 0)}, {"n": 0}),
        ({"n": Operator.multiply(3)}, {"n": 30}),
        ({"n": Operator.divide(4)}, {"n": 3}),
        ({"n": Operator.modulo(4)}, {"n": 2}),
        ({"n": Operator.power(2, 50)}, {"n": 50}),
        ({"x": Operator.divide(2)}, {"x": 0.75}),
        ({"tags": Operator.array_append(["c"])}, {"tags": ["a", "b", "a", "c"]}),
        ({"tags": Operator.array_prepend(["z"])}, {"tags": ["z", "a", "b", "a"]}),
        ({"tags": Operator.array_insert(1, "q")}, {"tags": ["a", "q", "b", "a"]}),
        ({"tags": Operator.array_remove("a")}, {"tags": ["b"]}),
        ({"tags": Operator.array_unique()}, {"tags": ["a", "b"]}),
        ({"tags": Operator.array_intersect(["b", "c"])}, {"tags": ["b"]}),
        ({"tags": Operator.array_diff(["b"])}, {"tags": ["a", "a"]}),
        ({"nums": Operator.array_filter(Condition.GREATER_THAN, 4)}, {"nums": [5, 9]}),
        ({"name": Operator.string_concat("cd")}, {"name": "abcd"}),
        ({"name": Operator.string_replace("b", "x")}, {"name": "ax"}),
        ({"on": Operator.toggle()}, {"on": True}),
        ({"at": Operator.date_add_days(1)}, {"at": "2024-02-01T00:00:00.000+00:00"}),
        ({"at": Operator.date_sub_days(31)}, {"at": "2023-12-31T00:00:00.000+00:00"}),
    ],
)
def test_each_operator_on_update(
    tables: TablesDB, database_id: str, table_id: str, data: dict[str, Any], expected: Any
) -> None:
    row = _update(tables, database_id, data)
    assert {k: row[k] for k in expected} == expected
    assert row["name"] in ("ab", "abcd", "ax")  # the other columns are kept


def test_date_set_now_and_upsert_and_bulk_update(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    row = _update(tables, database_id, {"at": Operator.date_set_now()})
    assert row["at"] > "2025"
    up = tables.upsert_row(database_id, "t", "r", {"n": Operator.increment(1)}).data
    assert up["n"] == 11 and up["name"] == "ab"
    fresh = tables.upsert_row(database_id, "t", "new", {"n": Operator.increment(2)}).data
    assert fresh["n"] == 2
    done = tables.update_rows(database_id, "t", {"n": Operator.multiply(10)}, [Query.limit(10)])
    assert done.total == 2
    assert {r.id: r.data["n"] for r in tables.list_rows(database_id, "t").rows} == {
        "r": 110,
        "new": 20,
    }
    tx = tables.create_transaction().id
    tables.update_row(database_id, "t", "r", {"n": Operator.decrement(10)}, transaction_id=tx)
    tables.update_row(database_id, "t", "r", {"n": Operator.decrement(10)}, transaction_id=tx)
    tables.update_transaction(tx, commit=True)
    assert tables.get_row(database_id, "t", "r").data["n"] == 90


def test_operators_are_not_applied_on_create_and_bad_ones_are_refused(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    stored = tables.create_row(database_id, "t", "c", {"name": Operator.toggle()}).data
    assert stored["name"] == '{"method":"toggle","values":[]}'
    for data in (
        {"name": Operator.increment(1)},
        {"n": '{"method":"divide","values":[0]}'},  # the SDK refuses divide(0) itself
        {"n": Operator.toggle()},
        {"tags": Operator.array_insert(9, "x")},
        {"on": Operator.array_append(["x"])},
    ):
        error = error_of(tables.update_row, database_id, "t", "r", data)
        assert (error.code, error.type) == (400, "general_bad_request"), data
        assert error.message.startswith("Invalid operator for attribute")
    assert tables.get_row(database_id, "t", "r").data["n"] == 10


def test_operators_on_relationship_columns_are_refused_as_appwrite_refuses_them(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    """Appwrite 1.9.6's parseOperators skips relationship columns (appwrite/appwrite#12354
    asks for them), so the operator's JSON string reaches validateRelationship as a related
    id and is refused as an invalid custom id — on every side, one- or many-valued."""
    db = database_id
    for table in ("owners", "pets"):
        tables.create_table(db, table, table, columns=[COLUMNS[4]])
    for kind, key, back in (
        (RelationshipType.MANYTOMANY, "friends", "friendOf"),
        (RelationshipType.ONETOMANY, "pets", "owner"),
    ):
        tables.create_relationship_column(
            db, "owners", "pets", kind, key=key, two_way=True, two_way_key=back
        )
        assert wait_status(client, db, "owners", key)["status"] == "available"
    tables.create_row(db, "pets", "rex", {"name": "Rex"})
    tables.create_row(db, "owners", "o", {"name": "O", "friends": ["rex"]})
    sides = (("owners", "o", "friends"), ("owners", "o", "pets"), ("pets", "rex", "owner"))
    for table, row, key in sides:
        for operator in (Operator.array_append(["rex"]), Operator.array_remove("rex")):
            for call in (tables.update_row, tables.upsert_row):
                error = error_of(call, db, table, row, {key: operator})
                assert (error.code, error.type) == (400, "relationship_value_invalid")
                assert error.message.startswith("Parameter must contain at most 36 chars.")
    # a plain id on a many side: utopia's updateDocument names the PHP type it was given
    error = error_of(tables.update_row, db, "owners", "o", {"friends": "rex"})
    assert error.message.endswith("an array of documents or document IDs, string given.")
    loaded = tables.get_row(db, "owners", "o", [Query.select(["friends.*", "pets.*"])]).data
    assert [f["$id"] for f in loaded["friends"]] == ["rex"] and loaded["pets"] == []  # unchanged
