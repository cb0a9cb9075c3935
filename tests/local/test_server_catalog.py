"""Databases and tables through the official SDK: CRUD, shapes, list queries, errors."""

from __future__ import annotations

import sqlite3

from appwrite.client import Client
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw

from workbook.local.server import LocalServer


def test_database_crud(tables: TablesDB, client: Client) -> None:
    created = raw(client, "post", "/tablesdb", {"databaseId": "crud", "name": "Crud"})
    assert set(created) >= {"$id", "name", "$createdAt", "$updatedAt", "enabled", "type"}
    assert (created["type"], created["enabled"]) == ("tablesdb", True)
    assert tables.get("crud").name == "Crud"
    updated = tables.update("crud", name="Renamed", enabled=False)
    assert (updated.name, updated.enabled) == ("Renamed", False)
    assert error_of(tables.create, "crud", "again").type == "database_already_exists"
    listed = tables.list(queries=[Query.equal("name", "Renamed")])
    assert [d.id for d in listed.databases] == ["crud"]
    tables.delete("crud")
    error = error_of(tables.get, "crud")
    assert (error.code, error.type) == (404, "database_not_found")
    assert error_of(tables.delete, "crud").type == "database_not_found"


def test_unique_id_generates_one(tables: TablesDB) -> None:
    created = tables.create("unique()", "generated")
    assert len(created.id) == 20
    tables.delete(created.id)


def test_list_databases_search_limit_and_total(tables: TablesDB) -> None:
    for n in range(3):
        tables.create(f"lst{n}", f"listing-{n}")
    page = tables.list(queries=[Query.limit(2)], search="listing-")
    assert page.total == 3 and len(page.databases) == 2
    assert tables.list(search="listing-", total=False).total == 0
    for n in range(3):
        tables.delete(f"lst{n}")


def test_table_crud(tables: TablesDB, database_id: str, local_server: LocalServer) -> None:
    table = tables.create_table(
        database_id, "t1", "First", permissions=['read("any")'], row_security=True
    )
    assert (table.id, table.name, table.databaseid) == ("t1", "First", database_id)
    assert table.rowsecurity is True and table.enabled is True
    assert table.permissions == ['read("any")']
    assert (table.columns, table.indexes, table.bytesmax, table.bytesused) == ([], [], 65535, 1067)
    error = error_of(tables.create_table, database_id, "t1", "Again")
    assert (error.code, error.type) == (409, "table_already_exists")
    updated = tables.update_table(database_id, "t1", name="Renamed", enabled=False)
    assert (updated.name, updated.enabled, updated.rowsecurity) == ("Renamed", False, True)
    tables.create_table(database_id, "t2", "Second")
    listed = tables.list_tables(database_id, queries=[Query.equal("name", "Second")])
    assert [t.id for t in listed.tables] == ["t2"]
    assert tables.list_tables(database_id).total == 2
    tables.delete_table(database_id, "t1")
    error = error_of(tables.get_table, database_id, "t1")
    assert (error.code, error.type) == (404, "table_not_found")
    with sqlite3.connect(local_server.db_path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert any(name.startswith("t_") for name in names)


def test_deleting_a_database_drops_its_tables(tables: TablesDB) -> None:
    tables.create("dropme", "dropme")
    tables.create_table(
        "dropme", "t", "t", columns=[{"key": "k", "type": "integer", "required": False}]
    )
    tables.create_row("dropme", "t", "r", {"k": 1})
    tables.delete("dropme")
    tables.create("dropme", "dropme")
    assert error_of(tables.get_table, "dropme", "t").type == "table_not_found"
    tables.delete("dropme")


def test_invalid_queries_on_lists(tables: TablesDB, database_id: str) -> None:
    # metadata lists validate `queries` as a route parameter (Appwrite's Queries\\Base)
    error = error_of(tables.list_tables, database_id, queries=["not json"])
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert error.message == "Invalid `queries` param: Invalid query: Invalid query: Syntax error"
    for lister, args in (
        (tables.list, ()),
        (tables.list_tables, (database_id,)),
    ):
        error = error_of(lister, *args, queries=[Query.select(["name"])])
        assert (error.code, error.type) == (400, "general_argument_invalid")
        assert error.message == "Invalid `queries` param: Invalid query method: select"
    error = error_of(tables.list_tables, database_id, queries=[Query.equal("rows", [1])])
    assert error.message == (
        "Invalid `queries` param: Invalid query: Attribute not found in schema: rows"
    )
    error = error_of(tables.list_tables, database_id, queries=[Query.limit(0)])
    assert error.message == (
        "Invalid `queries` param: Invalid query: Invalid limit: Value must be a valid range "
        "between 1 and 9,223,372,036,854,775,807"
    )
    assert tables.list_tables(database_id, queries=[Query.order_desc("$createdAt")]).total == 0
    error = error_of(tables.list_tables, database_id, queries=[Query.cursor_after("missing")])
    assert error.type == "general_cursor_not_found"
