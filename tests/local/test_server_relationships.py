"""Relationship columns through the official SDK: create (four types, two-way, onDelete),
`side`/`relatedTable` in answers, update (onDelete, newKey) and delete of both sides; rows that
set relationships by id or as nested rows with `$id`, related rows only when a select asks;
onDelete restrict/cascade/setNull; Appwrite's refusals."""

from __future__ import annotations

import time
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.enums.relation_mutate import RelationMutate
from appwrite.enums.relationship_type import RelationshipType
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw, wait_status

NAME = [{"key": "name", "type": "varchar", "size": 40, "required": False}]


@pytest.fixture
def two(tables: TablesDB, database_id: str) -> str:
    tables.create_table(database_id, "authors", "Authors", columns=NAME)
    tables.create_table(database_id, "books", "Books", columns=NAME)
    return database_id


def _relate(
    tables: TablesDB,
    client: Client,
    database_id: str,
    kind: RelationshipType,
    on_delete: RelationMutate = RelationMutate.RESTRICT,
    **kw: Any,
) -> Any:
    column = tables.create_relationship_column(
        database_id, "authors", "books", kind, on_delete=on_delete, **kw
    )
    assert column.status.value == "processing"
    assert wait_status(client, database_id, "authors", column.key)["status"] == "available"
    return column


def test_a_two_way_relationship_has_both_sides_and_is_updated_and_deleted_as_one(
    tables: TablesDB, client: Client, two: str
) -> None:
    column = _relate(
        tables, client, two, RelationshipType.ONETOMANY, two_way=True, two_way_key="author"
    )
    assert (column.key, column.relatedtable, column.side) == ("books", "books", "parent")
    child = raw(client, "get", f"/tablesdb/{two}/tables/books/columns/author")
    assert child["side"] == "child" and child["relatedTable"] == "authors"
    assert child["relationType"] == "oneToMany" and child["twoWayKey"] == "books"
    assert child["onDelete"] == "restrict" and child["required"] is False

    updated = tables.update_relationship_column(
        two, "authors", "books", on_delete=RelationMutate.CASCADE, new_key="works"
    )
    assert (updated.key, updated.ondelete) == ("works", "cascade")
    child = raw(client, "get", f"/tablesdb/{two}/tables/books/columns/author")
    assert child["onDelete"] == "cascade" and child["twoWayKey"] == "works"
    server_path = raw(
        client, "patch", f"/tablesdb/{two}/tables/authors/columns/works/relationship",
        {"onDelete": "setNull"},
    )  # fmt: skip
    assert server_path["onDelete"] == "setNull"

    tables.delete_column(two, "authors", "works")
    deadline = time.monotonic() + 5
    for table, key in (("authors", "works"), ("books", "author")):
        while True:  # `deleting` for the schema delay, then gone
            try:
                assert tables.get_column(two, table, key).status.value == "deleting"
            except AppwriteException as error:
                assert error.type == "column_not_found"
                break
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_rows_link_by_id_and_read_related_rows_only_when_selected(
    tables: TablesDB, client: Client, two: str
) -> None:
    _relate(tables, client, two, RelationshipType.ONETOMANY, two_way=True, two_way_key="author")
    tables.create_row(two, "books", "b1", {"name": "One"})
    tables.create_row(two, "books", "b2", {"name": "Two"})
    tables.create_row(two, "authors", "a", {"name": "Ann", "books": ["b1", {"$id": "b2"}]})
    plain = tables.get_row(two, "authors", "a").data
    assert "books" not in plain
    full = tables.get_row(two, "authors", "a", [Query.select(["*", "books.*"])]).data
    assert [b["$id"] for b in full["books"]] == ["b1", "b2"]
    assert full["books"][0]["name"] == "One" and full["name"] == "Ann"
    listed = tables.list_rows(two, "books", [Query.select(["*", "author.*"])]).rows
    assert {r.id: r.data["author"]["$id"] for r in listed} == {"b1": "a", "b2": "a"}
    tables.update_row(two, "books", "b2", {"author": None})
    after = tables.get_row(two, "authors", "a", [Query.select(["books.*"])]).data
    # utopia drops a "many" side's dotted select from the own select; left empty, it reads `*`
    assert [b["$id"] for b in after["books"]] == ["b1"] and after["name"] == "Ann"
    # through a one-valued side, only that side is selected (no other own field)
    book = tables.get_row(two, "books", "b1", [Query.select(["author.name"])]).data
    assert "name" not in book and book["author"] == {**book["author"], "name": "Ann"}
    assert set(book["author"]) - {"name"} == {k for k in book["author"] if k[:1] == "$"}
    error = error_of(tables.create_row, two, "authors", "x", {"books": "b1"})
    assert (error.code, error.type) == (400, "relationship_value_invalid")
    error = error_of(tables.create_rows, two, "authors", [{"name": "bulk"}])
    assert (error.code, error.type) == (400, "general_bad_request")


@pytest.mark.parametrize(
    ("on_delete", "books_left", "error_type"),
    [
        (RelationMutate.RESTRICT, {"b1", "b2"}, "row_delete_restricted"),
        (RelationMutate.CASCADE, {"b2"}, None),
        (RelationMutate.SETNULL, {"b1", "b2"}, None),
    ],
)
def test_on_delete(
    tables: TablesDB,
    client: Client,
    two: str,
    on_delete: RelationMutate,
    books_left: set[str],
    error_type: str | None,
) -> None:
    _relate(tables, client, two, RelationshipType.ONETOMANY, on_delete, two_way=True,
            two_way_key="author")  # fmt: skip
    tables.create_row(two, "books", "b1", {"name": "One"})
    tables.create_row(two, "books", "b2", {"name": "Two"})
    tables.create_row(two, "authors", "a", {"books": ["b1"]})
    if error_type:
        error = error_of(tables.delete_row, two, "authors", "a")
        assert (error.code, error.type) == (403, error_type)
    else:
        tables.delete_row(two, "authors", "a")
    assert {r.id for r in tables.list_rows(two, "books").rows} == books_left
    if on_delete == RelationMutate.SETNULL:
        book = tables.get_row(two, "books", "b1", [Query.select(["*", "author.*"])]).data
        assert book["author"] is None
    # deleting the "many" side never needs the parent gone
    tables.delete_row(two, "books", "b2")


def test_one_way_and_many_to_many_and_refusals(tables: TablesDB, client: Client, two: str) -> None:
    one_way = _relate(tables, client, two, RelationshipType.MANYTOONE, key="favourite")
    assert one_way.twoway is False
    assert error_of(tables.get_column, two, "books", "authors").type == "column_not_found"
    _relate(tables, client, two, RelationshipType.MANYTOMANY, key="shelf", two_way=True,
            two_way_key="readers")  # fmt: skip
    error = error_of(
        tables.create_relationship_column, two, "authors", "books",
        RelationshipType.MANYTOMANY, key="again",
    )  # fmt: skip
    assert (error.code, error.type) == (409, "column_already_exists")
    error = error_of(
        tables.create_relationship_column, two, "authors", "books",
        RelationshipType.ONETOONE, key="other", two_way=True, two_way_key="readers",
    )  # fmt: skip
    assert (error.code, error.type) == (409, "column_already_exists")
    error = error_of(
        tables.create_relationship_column, two, "authors", "ghost", RelationshipType.ONETOONE
    )
    assert (error.code, error.type) == (404, "table_not_found")
    tables.create_row(two, "books", "b", {"name": "B"})
    tables.create_row(two, "authors", "a", {"favourite": "b", "shelf": ["b"]})
    row = tables.get_row(two, "authors", "a", [Query.select(["favourite.*", "shelf.*"])]).data
    assert row["favourite"]["$id"] == "b" and [s["$id"] for s in row["shelf"]] == ["b"]
    readers = tables.get_row(two, "books", "b", [Query.select(["readers.*"])]).data
    assert [r["$id"] for r in readers["readers"]] == ["a"]
    error = error_of(tables.delete_row, two, "books", "b")  # restrict from the one-way side
    assert error.type == "row_delete_restricted"
