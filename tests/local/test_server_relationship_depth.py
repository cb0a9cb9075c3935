"""Relationships beyond one level, through the official SDK: nested rows created or updated
with their parent (utopia's relateDocuments, permissions inherited, writes two levels deep at
most), related rows read to utopia's RELATION_MAX_DEPTH (3 levels of rows) when a select asks,
and filters on relationship columns as utopia 7.2.6 allows them (stored side by id, dotted
paths on any side, "virtual" many sides refused)."""

from __future__ import annotations

import pytest
from appwrite.client import Client
from appwrite.enums.relation_mutate import RelationMutate
from appwrite.enums.relationship_type import RelationshipType
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, wait_status

NAME = [{"key": "name", "type": "varchar", "size": 40, "required": False}]


@pytest.fixture
def chain(tables: TablesDB, client: Client, database_id: str) -> str:
    """books → author (manyToOne, back `books`) → company (manyToOne, back `staff`) →
    country (manyToOne, one-way)."""
    for table in ("countries", "companies", "authors", "books"):
        tables.create_table(database_id, table, table, columns=NAME)
    for table, related, key, back in (
        ("books", "authors", "author", "books"),
        ("authors", "companies", "company", "staff"),
        ("companies", "countries", "country", None),
    ):
        tables.create_relationship_column(
            database_id, table, related, RelationshipType.MANYTOONE, two_way=back is not None,
            key=key, two_way_key=back,
        )  # fmt: skip
        assert wait_status(client, database_id, table, key)["status"] == "available"
    return database_id


def test_nested_rows_are_created_then_updated_with_their_parent(
    tables: TablesDB, chain: str
) -> None:
    tables.create_row(chain, "countries", "fr", {"name": "France"})
    book = {
        "name": "Dune",
        "author": {
            "$id": "ann",
            "name": "Ann",
            "company": {"$id": "acme", "name": "Acme", "country": "fr"},
        },
    }
    tables.create_row(chain, "books", "b1", book, permissions=['read("any")'])
    ann = tables.get_row(chain, "authors", "ann", [Query.select(["*", "company.*"])])
    assert ann.data["name"] == "Ann" and ann.data["company"]["name"] == "Acme"
    assert ann.permissions == ['read("any")']  # inherited from the parent row
    acme = tables.get_row(chain, "companies", "acme", [Query.select(["*", "country.*"])])
    assert acme.data["country"] is None  # third level: its own relationships are not written

    tables.update_row(chain, "books", "b1", {"author": {"$id": "ann", "name": "Ann B"}})
    assert tables.get_row(chain, "authors", "ann").data["name"] == "Ann B"
    tables.create_row(chain, "books", "b2", {"name": "Emma", "author": {"name": "New"}})
    made = tables.get_row(chain, "books", "b2", [Query.select(["author.*"])]).data["author"]
    assert made["name"] == "New" and len(made["$id"]) == 20  # a new unique id
    staff = tables.get_row(chain, "companies", "acme", [Query.select(["staff.*"])]).data
    assert [s["$id"] for s in staff["staff"]] == ["ann"]

    error = error_of(tables.create_row, chain, "books", "b3", {"author": {"$id": "-bad"}})
    assert (error.code, error.type) == (400, "relationship_value_invalid")
    error = error_of(tables.create_row, chain, "books", "b3", {"author": ["ann"]})
    assert (error.code, error.type) == (400, "relationship_value_invalid")
    assert "array given" in error.message
    assert error_of(tables.get_row, chain, "books", "b3").type == "row_not_found"


def test_related_rows_are_read_three_levels_deep_and_no_further(
    tables: TablesDB, chain: str
) -> None:
    tables.create_row(chain, "countries", "fr", {"name": "France"})
    tables.create_row(chain, "companies", "acme", {"name": "Acme", "country": "fr"})
    tables.create_row(chain, "authors", "ann", {"name": "Ann", "company": "acme"})
    tables.create_row(chain, "books", "b1", {"name": "Dune", "author": "ann"})
    deep = Query.select(["*", "author.*", "author.company.*", "author.company.country.*"])
    book = tables.get_row(chain, "books", "b1", [deep]).data
    company = book["author"]["company"]
    assert (book["name"], book["author"]["name"], company["name"]) == ("Dune", "Ann", "Acme")
    assert "country" not in company  # RELATION_MAX_DEPTH = 3 levels of rows
    assert "books" not in book["author"]  # the way back is never loaded
    listed = tables.list_rows(chain, "books", [deep]).rows[0].data
    assert listed["author"]["company"]["$id"] == "acme"
    only = tables.get_row(chain, "books", "b1", [Query.select(["author.company.name"])]).data
    assert set(only["author"]) == {k for k in only["author"] if k[:1] == "$"} | {"company"}
    assert only["author"]["company"]["name"] == "Acme" and "name" not in only
    error = error_of(tables.get_row, chain, "books", "b1", [Query.select(["ghost"])])
    assert error.message == "Invalid query: Attribute not found in schema: ghost"
    error = error_of(tables.get_row, chain, "books", "b1", [Query.select(["author"])])
    assert (error.code, error.type) == (400, "general_query_invalid")
    assert error.message == "Cannot select attributes: author"


def test_filters_on_relationship_columns(tables: TablesDB, chain: str) -> None:
    tables.create_row(chain, "companies", "acme", {"name": "Acme"})
    tables.create_row(chain, "authors", "ann", {"name": "Ann", "company": "acme"})
    tables.create_row(chain, "authors", "bob", {"name": "Bob"})
    tables.create_row(chain, "books", "b1", {"name": "Dune", "author": "ann"})
    tables.create_row(chain, "books", "b2", {"name": "Emma", "author": "bob"})
    tables.create_row(chain, "books", "b3", {"name": "Orphan"})

    def ids(table: str, *queries: str) -> list[str]:
        return [r.id for r in tables.list_rows(chain, table, list(queries)).rows]

    assert ids("books", Query.equal("author", ["ann"])) == ["b1"]  # the stored side, by id
    assert ids("books", Query.not_equal("author", "ann")) == ["b2"]
    assert ids("books", Query.is_null("author")) == ["b3"]
    assert ids("books", Query.equal("author.name", ["Bob"])) == ["b2"]
    assert ids("books", Query.equal("author.company.name", ["Acme"])) == ["b1"]
    assert ids("authors", Query.equal("books.name", ["Emma"])) == ["bob"]  # dotted: any side
    assert ids("books", Query.equal("author.name", ["Ann"]), Query.equal("name", ["x"])) == []
    assert tables.list_rows(chain, "books", [Query.equal("author.name", ["Ann"])]).total == 1
    # ordering by the stored side's related id, cursor included
    assert ids("books", Query.order_desc("author"), Query.is_not_null("author")) == ["b2", "b1"]
    assert ids("books", Query.order_asc("author"), Query.cursor_after("b1")) == ["b2"]
    for table, query, message in (
        ("authors", Query.equal("books", ["b1"]),
         "Invalid query: Cannot query on virtual relationship attribute"),
        ("books", Query.equal("author", [5]),
         'Invalid query: Query value is invalid for attribute "author"'),
        ("books", Query.equal("author.ghost", ["x"]),
         "Invalid query: Attribute not found in schema: ghost"),
        ("books", Query.order_asc("author.name"),
         "Invalid query: Cannot order by nested attribute: author"),
        ("books", Query.select(["ghost.*"]), "Invalid query: Attribute not found in schema: ghost"),
    ):  # fmt: skip
        error = error_of(tables.list_rows, chain, table, [query])
        assert (error.code, error.type, error.message) == (400, "general_query_invalid", message)


def test_a_cycle_of_cascades_is_created_and_a_delete_through_it_ends(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    """utopia refuses no cascade cycle; a delete follows the cascades once around and stops."""
    db = database_id
    for table in ("a", "b", "c"):
        tables.create_table(db, table, table, columns=NAME)
    for table, related in (("a", "b"), ("b", "c"), ("c", "a")):
        column = tables.create_relationship_column(
            db, table, related, RelationshipType.ONETOMANY, key="next",
            two_way=True, two_way_key="prev", on_delete=RelationMutate.CASCADE,
        )  # fmt: skip
        assert column.status.value == "processing"
        assert wait_status(client, db, table, "next")["status"] == "available"
    tables.create_row(db, "a", "a1", {"name": "x"})
    tables.create_row(db, "b", "b1", {"prev": "a1"})
    tables.create_row(db, "c", "c1", {"prev": "b1", "next": ["a1"]})
    tables.create_row(db, "a", "a2", {"name": "untouched"})
    tables.delete_row(db, "a", "a1")
    assert [tables.list_rows(db, t).total for t in ("a", "b", "c")] == [1, 0, 0]
    assert tables.get_row(db, "a", "a2").data["name"] == "untouched"


@pytest.mark.parametrize(
    ("kind", "refused_from"),
    [
        (RelationshipType.ONETOONE, "parent"),
        (RelationshipType.ONETOMANY, "parent"),
        (RelationshipType.MANYTOONE, "child"),
        (RelationshipType.MANYTOMANY, "parent"),
    ],
)
def test_restrict_refuses_from_the_side_utopia_refuses(
    tables: TablesDB, client: Client, database_id: str, kind: RelationshipType, refused_from: str
) -> None:
    db = database_id
    for table in ("p", "q"):
        tables.create_table(db, table, table, columns=NAME)
    tables.create_relationship_column(db, "p", "q", kind, key="q", two_way=True, two_way_key="p")
    assert wait_status(client, db, "p", "q")["status"] == "available"
    many = kind in (RelationshipType.ONETOMANY, RelationshipType.MANYTOMANY)
    tables.create_row(db, "q", "q1", {"name": "q"})
    tables.create_row(db, "p", "p1", {"q": ["q1"] if many else "q1"})
    refused, allowed = (("p", "p1"), ("q", "q1"))
    if refused_from == "child":
        refused, allowed = allowed, refused
    error = error_of(tables.delete_row, db, *refused)
    assert (error.code, error.type) == (403, "row_delete_restricted")
    tables.delete_row(db, *allowed)
    tables.delete_row(db, *refused)  # nothing links it any more


def test_missing_ids_are_dropped_and_null_on_a_list_side_changes_nothing(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    """utopia links only rows that exist, and never clears a list side from a null."""
    db = database_id
    for table in ("owners", "pets"):
        tables.create_table(db, table, table, columns=NAME)
    for kind, key, back in (
        (RelationshipType.ONETOMANY, "pets", "owner"),
        (RelationshipType.MANYTOMANY, "friends", "friendOf"),
    ):
        tables.create_relationship_column(
            db, "owners", "pets", kind, key=key, two_way=True, two_way_key=back
        )
        assert wait_status(client, db, "owners", key)["status"] == "available"
    tables.create_row(db, "pets", "rex", {"name": "Rex"})
    tables.create_row(db, "owners", "o", {"pets": ["ghost", "rex"], "friends": ["rex", "nope"]})
    loaded = Query.select(["pets.*", "friends.*"])

    def linked() -> tuple[list[str], list[str]]:
        row = tables.get_row(db, "owners", "o", [loaded]).data
        return [p["$id"] for p in row["pets"]], [f["$id"] for f in row["friends"]]

    assert linked() == (["rex"], ["rex"])
    tables.update_row(db, "owners", "o", {"friends": None, "name": "x"})
    assert linked() == (["rex"], ["rex"])
    error = error_of(tables.update_row, db, "owners", "o", {"pets": None})
    assert (error.code, error.type) == (400, "relationship_value_invalid")
    tables.update_row(db, "owners", "o", {"pets": []})
    tables.update_row(db, "owners", "o", {"pets": None})  # nothing linked: accepted
    assert linked() == ([], ["rex"])


def test_a_missing_id_on_a_one_valued_side_is_kept_on_create_as_utopia_stores_it(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    """utopia's createDocument leaves a stored id whose row is missing in place (its
    relateDocumentsById returns early): a select reads an empty row (`[]`), filters by id
    match it, restrict does not count it, and the row links once it exists; an update to a
    missing id clears the link (updateDocumentRelationships sets the key to null)."""
    db = database_id
    for table in ("owners", "pets", "homes"):
        tables.create_table(db, table, table, columns=NAME)
    for table, related, kind, key, back in (
        ("owners", "homes", RelationshipType.ONETOONE, "home", None),  # parent stores it
        ("owners", "pets", RelationshipType.ONETOMANY, "pets", "owner"),  # child stores it
        ("pets", "homes", RelationshipType.MANYTOONE, "lives", None),  # parent stores it
    ):
        tables.create_relationship_column(
            db, table, related, kind, key=key, two_way=back is not None, two_way_key=back
        )  # onDelete restrict, Appwrite's default
        assert wait_status(client, db, table, key)["status"] == "available"
    tables.create_row(db, "owners", "o", {"name": "O", "home": "ghost"})
    tables.create_row(db, "pets", "p", {"name": "P", "owner": "nobody", "lives": "ghost"})

    def read(table: str, row: str, *keys: str) -> list[object]:
        data = tables.get_row(db, table, row, [Query.select(["*", *(f"{k}.*" for k in keys)])])
        return [v["$id"] if isinstance(v, dict) else v for v in map(data.data.get, keys)]

    assert read("owners", "o", "home") == [[]] and read("pets", "p", "owner", "lives") == [[], []]
    for table, key, value in (("owners", "home", "ghost"), ("pets", "owner", "nobody")):
        assert tables.list_rows(db, table, [Query.equal(key, value)]).total == 1

    tables.create_row(db, "homes", "ghost", {"name": "Haunted"})
    tables.create_row(db, "owners", "nobody", {"name": "N"})
    assert read("owners", "o", "home") == ["ghost"]
    assert read("pets", "p", "owner", "lives") == ["nobody", "ghost"]
    owner = tables.get_row(db, "owners", "nobody", [Query.select(["pets.*"])]).data
    assert [p["$id"] for p in owner["pets"]] == ["p"]

    tables.update_row(db, "pets", "p", {"lives": "gone"})  # an update does not keep it
    assert read("pets", "p", "lives") == [None]
    assert tables.list_rows(db, "pets", [Query.equal("lives", "gone")]).total == 0
    tables.create_row(db, "owners", "o2", {"name": "O2", "home": "nowhere"})
    tables.delete_row(db, "owners", "o2")  # restrict counts no missing row
    error = error_of(tables.delete_row, db, "owners", "o")  # its home exists: restricted
    assert (error.code, error.type) == (403, "row_delete_restricted")


def test_bulk_writes_on_a_table_with_relationships_are_refused_in_appwrites_words(
    tables: TablesDB, chain: str
) -> None:
    tables.create_row(chain, "books", "b1", {"name": "Dune"})
    tx = tables.create_transaction()
    for call, words in (
        (lambda **kw: tables.create_rows(chain, "books", [{"name": "x"}], **kw),
         "Bulk create is not supported for tablesDB with relationship columns"),
        (lambda **kw: tables.update_rows(chain, "books", {"name": "y"}, **kw),
         "Bulk update is not supported for tablesDB with relationship attributes"),
        (lambda **kw: tables.delete_rows(chain, "books", **kw),
         "Bulk delete is not supported for tablesDB with relationship attributes"),
    ):  # fmt: skip
        for kw in ({}, {"transaction_id": tx.id}):  # the route refuses before staging
            error = error_of(call, **kw)
            assert (error.code, error.type, error.message) == (400, "general_bad_request", words)
    staged = [{"action": "bulkDelete", "databaseId": chain, "tableId": "books", "data": {}}]
    error = error_of(tables.create_operations, tx.id, staged)
    assert (error.code, error.type) == (400, "general_bad_request")
    assert error.message == (
        "Bulk operations are not supported for tableId with relationship attributes"
    )
    assert tables.get_transaction(tx.id).operations == 0


def test_one_to_one_refuses_a_row_linked_from_another(
    tables: TablesDB, client: Client, database_id: str
) -> None:
    """utopia keeps a unique index on a oneToOne key: a second link to one row is refused."""
    db = database_id
    for table in ("people", "desks"):
        tables.create_table(db, table, table, columns=NAME)
    tables.create_relationship_column(
        db, "people", "desks", RelationshipType.ONETOONE, key="desk", two_way=True,
        two_way_key="person",
    )  # fmt: skip
    assert wait_status(client, db, "people", "desk")["status"] == "available"
    tables.create_row(db, "desks", "d1", {"name": "D1"})
    tables.create_row(db, "people", "ann", {"desk": "d1"})
    error = error_of(tables.create_row, db, "people", "bob", {"desk": "d1"})
    assert (error.code, error.type) == (409, "row_unique_constraint_violation")
    tables.create_row(db, "people", "bob", {"name": "Bob"})
    error = error_of(tables.update_row, db, "people", "bob", {"desk": "d1"})
    assert (error.code, error.type) == (409, "row_already_exists")
    tables.update_row(db, "people", "ann", {"desk": "d1", "name": "Ann"})  # its own link
    # from the desk's side: utopia sets bob's unique key while ann's still holds d1
    error = error_of(tables.update_row, db, "desks", "d1", {"person": "bob"})
    assert (error.code, error.type) == (409, "row_unique_constraint_violation")
    desk = tables.get_row(db, "desks", "d1", [Query.select(["person.*"])]).data
    assert desk["person"]["$id"] == "ann"
