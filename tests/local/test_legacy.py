"""The legacy `/v1/databases` API through the official SDK's `Databases` service.

It is the same data as TablesDB under other words (collections, attributes, documents),
with the legacy error types and only the legacy scopes. Shapes are checked on raw JSON
(`client.call`) where the SDK's models would hide a wrong key.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.databases import Databases
from appwrite.services.tables_db import TablesDB
from local_support import raw
from sdk_support import sdk_client_for

from workbook.local.legacy import legacy_message
from workbook.local.server import LocalServer, start_local_server

LEGACY_READ_KEY = "legacy-read-" + uuid.uuid4().hex
NEW_SCOPES_KEY = "new-scopes-" + uuid.uuid4().hex
KEYS = {
    LEGACY_READ_KEY: ["databases.read", "collections.read", "documents.read"],
    NEW_SCOPES_KEY: [
        "databases.read",
        "databases.write",
        "tables.read",
        "tables.write",
        "columns.read",
        "columns.write",
        "indexes.read",
        "indexes.write",
        "rows.read",
        "rows.write",
    ],
}


@pytest.fixture(autouse=True)
def _sdk_deprecations(recwarn: pytest.WarningsRecorder) -> Iterator[None]:
    """The SDK warns on every legacy call (forcing 'always'); only those warnings are expected."""
    yield
    others = [w for w in recwarn if not issubclass(w.category, DeprecationWarning)]
    assert not others, [str(w.message) for w in others]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """This module's own server (with the legacy-scoped keys); conftest's `client` and
    `tables` fixtures talk to it."""
    running = start_local_server(
        tmp_path_factory.mktemp("legacy") / "legacy.db", schema_delay=0.02, extra_keys=KEYS
    )
    yield running
    running.stop()


@pytest.fixture
def legacy(client: Client) -> Databases:
    return Databases(client)


@pytest.fixture
def db(legacy: Databases) -> str:
    database_id = "db" + uuid.uuid4().hex[:12]
    legacy.create(database_id, "Legacy")
    return database_id


def wait_available(client: Client, path: str) -> dict[str, Any]:
    """Poll an attribute or index until the worker is done, like Appwrite's e2e tests."""
    deadline = time.monotonic() + 10
    while True:
        body = raw(client, "get", path)
        if body["status"] != "processing" or time.monotonic() > deadline:
            assert body["status"] == "available", body
            return body
        time.sleep(0.01)


def people(legacy: Databases, db: str) -> None:
    legacy.create_collection(
        db,
        "people",
        "People",
        permissions=['read("any")'],
        document_security=True,
        attributes=[
            {"key": "name", "type": "string", "size": 64, "required": True},
            {"key": "age", "type": "integer", "required": False, "min": 0, "max": 200},
            {"key": "columns", "type": "integer", "required": False},
        ],
        indexes=[{"key": "by_name", "type": "key", "attributes": ["name"]}],
    )


def test_database_created_through_legacy_is_typed_legacy_and_shared(
    client: Client, legacy: Databases, tables: TablesDB
) -> None:
    database_id = "db" + uuid.uuid4().hex[:12]
    body = raw(client, "post", "/databases", {"databaseId": database_id, "name": "Old"})
    assert body["type"] == "legacy"
    assert tables.get(database_id).name == "Old"
    listed = raw(client, "get", "/databases")
    assert database_id in [d["$id"] for d in listed["databases"]]
    tables.update(database_id, "Renamed")
    assert legacy.get(database_id).name == "Renamed"
    legacy.delete(database_id)
    with pytest.raises(AppwriteException) as err:
        tables.get(database_id)
    assert (err.value.code, err.value.type) == (404, "database_not_found")


def test_collection_shape_uses_legacy_words(
    client: Client, legacy: Databases, tables: TablesDB, db: str
) -> None:
    people(legacy, db)
    body = raw(client, "get", f"/databases/{db}/collections/people")
    assert body["documentSecurity"] is True
    assert "rowSecurity" not in body and "columns" not in body
    assert [a["key"] for a in body["attributes"]] == ["name", "age", "columns"]
    assert all(a["status"] == "available" for a in body["attributes"])
    assert body["indexes"][0]["attributes"] == ["name"]
    assert "columns" not in body["indexes"][0]

    listed = raw(client, "get", f"/databases/{db}/collections")
    assert listed["total"] == 1 and [c["$id"] for c in listed["collections"]] == ["people"]
    assert "tables" not in listed

    # The same table through TablesDB.
    table = tables.get_table(db, "people")
    assert table.rowsecurity is True and table.permissions == ['read("any")']

    legacy.update_collection(db, "people", "Persons", document_security=False)
    assert tables.get_table(db, "people").rowsecurity is False
    assert legacy.get_collection(db, "people").name == "Persons"


def test_attributes_and_indexes_are_asynchronous_like_columns(
    client: Client, legacy: Databases, db: str
) -> None:
    people(legacy, db)
    base = f"/databases/{db}/collections/people"
    created = raw(
        client,
        "post",
        base + "/attributes/enum",
        {"key": "tier", "elements": ["free", "pro"], "required": False, "default": "free"},
    )
    assert created["status"] == "processing" and created["format"] == "enum"
    raw(client, "post", base + "/attributes/email", {"key": "email", "required": False})
    raw(
        client,
        "post",
        base + "/attributes/float",
        {"key": "score", "required": False, "min": 0, "max": 1},
    )
    for key in ("tier", "email", "score"):
        wait_available(client, f"{base}/attributes/{key}")
    assert raw(client, "get", base + "/attributes/score")["type"] == "double"

    listed = raw(client, "get", base + "/attributes", {"queries": [Query.limit(2)]})
    assert listed["total"] == 6 and len(listed["attributes"]) == 2
    assert "columns" not in listed

    index = raw(
        client,
        "post",
        base + "/indexes",
        {"key": "by_email", "type": "unique", "attributes": ["email"]},
    )
    assert index["status"] == "processing" and index["attributes"] == ["email"]
    assert wait_available(client, base + "/indexes/by_email")["attributes"] == ["email"]
    keys = [i["key"] for i in raw(client, "get", base + "/indexes")["indexes"]]
    assert keys == ["by_name", "by_email"]

    updated = legacy.update_enum_attribute(
        db, "people", "tier", ["free", "pro", "team"], required=False, default="pro"
    )
    assert updated.elements == ["free", "pro", "team"]
    legacy.delete_index(db, "people", "by_email")
    legacy.delete_attribute(db, "people", "score")


def test_documents_crud(client: Client, legacy: Databases, tables: TablesDB, db: str) -> None:
    people(legacy, db)
    base = f"/databases/{db}/collections/people/documents"
    doc = raw(
        client,
        "post",
        base,
        {"documentId": "ann", "data": {"name": "Ann", "age": 30, "columns": 1}},
    )
    assert doc["$collectionId"] == "people" and "$tableId" not in doc
    # A user attribute named like a TablesDB word is data, never renamed.
    assert doc["columns"] == 1 and doc["name"] == "Ann"

    bulk = legacy.create_documents(
        db, "people", [{"$id": f"p{i}", "name": f"P{i}", "age": i} for i in range(5)]
    )
    assert bulk.total == 5
    listed = raw(client, "get", base, {"queries": [Query.less_than("age", 3)]})
    assert listed["total"] == 3 and "rows" not in listed
    assert {d["$id"] for d in listed["documents"]} == {"p0", "p1", "p2"}
    assert all(d["$collectionId"] == "people" for d in listed["documents"])

    # The same rows through TablesDB.
    assert tables.get_row(db, "people", "ann").data["columns"] == 1

    got = legacy.get_document(db, "people", "ann")
    assert got.data["age"] == 30
    assert legacy.update_document(db, "people", "ann", {"age": 31}).data["age"] == 31
    assert legacy.upsert_document(db, "people", "bob", {"name": "Bob"}).data["name"] == "Bob"
    stepped = legacy.increment_document_attribute(db, "people", "ann", "age", 2)
    assert stepped.data["age"] == 33
    stepped = legacy.decrement_document_attribute(db, "people", "ann", "age", 3)
    assert stepped.data["age"] == 30

    upserted = legacy.upsert_documents(
        db, "people", [{"$id": "p0", "name": "Zero", "age": 0}, {"$id": "new", "name": "New"}]
    )
    assert upserted.total == 2
    changed = legacy.update_documents(db, "people", {"age": 99}, [Query.equal("name", ["New"])])
    assert changed.total == 1
    deleted = legacy.delete_documents(db, "people", [Query.equal("age", [3, 4, 99])])
    assert {d.id for d in deleted.documents} == {"p3", "p4", "new"}
    legacy.delete_document(db, "people", "bob")
    remaining = legacy.list_documents(db, "people", [Query.order_asc("$id"), Query.limit(100)])
    assert [d.id for d in remaining.documents] == ["ann", "p0", "p1", "p2"]


@pytest.mark.parametrize(
    ("call", "code", "kind"),
    [
        (lambda d, db: d.get_collection(db, "missing"), 404, "collection_not_found"),
        (lambda d, db: d.get_attribute(db, "people", "missing"), 404, "attribute_not_found"),
        (lambda d, db: d.get_index(db, "people", "missing"), 404, "index_not_found"),
        (lambda d, db: d.get_document(db, "people", "missing"), 404, "document_not_found"),
        (
            lambda d, db: d.create_collection(db, "people", "Again"),
            409,
            "collection_already_exists",
        ),
        (
            lambda d, db: d.create_string_attribute(db, "people", "name", 8, False),
            409,
            "attribute_already_exists",
        ),
        (
            lambda d, db: d.create_index(db, "people", "by_name", "key", ["age"]),
            409,
            "index_already_exists",
        ),
        (
            lambda d, db: d.create_index(db, "people", "x", "key", ["nope"]),
            400,
            "attribute_unknown",
        ),
        (
            lambda d, db: d.create_document(db, "people", "ann", {"name": "Again"}),
            409,
            "document_already_exists",
        ),
        (
            lambda d, db: d.create_document(db, "people", "x", {"nope": 1, "name": "X"}),
            400,
            "document_invalid_structure",
        ),
        (
            lambda d, db: d.create_integer_attribute(db, "people", "n", False, 5, 1),
            400,
            "attribute_value_invalid",
        ),
        (
            lambda d, db: d.create_string_attribute(db, "people", "s", 8, True, "dflt"),
            400,
            "attribute_default_unsupported",
        ),
        (lambda d, db: d.delete_attribute(db, "people", "name"), 409, "index_dependency"),
    ],
)
def test_legacy_error_types(legacy: Databases, db: str, call: Any, code: int, kind: str) -> None:
    people(legacy, db)
    legacy.create_document(db, "people", "ann", {"name": "Ann"})
    with pytest.raises(AppwriteException) as err:
        call(legacy, db)
    assert (err.value.code, err.value.type) == (code, kind), err.value.message
    assert "Table" not in err.value.message and "Column" not in err.value.message


def test_missing_parameter_is_named_in_legacy_words(client: Client, db: str) -> None:
    with pytest.raises(AppwriteException) as err:
        raw(client, "post", f"/databases/{db}/collections", {"name": "No id"})
    assert err.value.type == "general_argument_invalid"
    assert "collectionId" in err.value.message and "tableId" not in err.value.message


def test_legacy_routes_accept_only_legacy_scopes(
    local_server: LocalServer, legacy: Databases, db: str
) -> None:
    people(legacy, db)
    legacy.create_document(db, "people", "ann", {"name": "Ann"})

    reader = Databases(sdk_client_for(local_server, LEGACY_READ_KEY))
    assert reader.get_document(db, "people", "ann").data["name"] == "Ann"
    assert reader.list_attributes(db, "people").total == 3
    with pytest.raises(AppwriteException) as err:
        reader.create_document(db, "people", "bob", {"name": "Bob"})
    assert (err.value.code, err.value.type) == (401, "general_unauthorized_scope")
    assert "documents.write" in err.value.message

    modern = Databases(sdk_client_for(local_server, NEW_SCOPES_KEY))
    for call in (
        lambda: modern.list_collections(db),
        lambda: modern.get_document(db, "people", "ann"),
        lambda: modern.create_boolean_attribute(db, "people", "flag", False),
    ):
        with pytest.raises(AppwriteException) as err:
            call()
        assert (err.value.code, err.value.type) == (401, "general_unauthorized_scope")
    # The same key is fine on TablesDB, and database routes use databases.* on both APIs.
    assert TablesDB(sdk_client_for(local_server, NEW_SCOPES_KEY)).get_row(db, "people", "ann")
    assert modern.get(db).id == db


def test_legacy_and_tablesdb_share_cursor_paging(
    legacy: Databases, tables: TablesDB, db: str
) -> None:
    people(legacy, db)
    legacy.create_documents(db, "people", [{"$id": f"d{i:02d}", "name": "n"} for i in range(30)])
    seen: list[str] = []
    cursor: str | None = None
    while True:
        queries = [Query.limit(7)] + ([Query.cursor_after(cursor)] if cursor else [])
        page = legacy.list_documents(db, "people", queries)
        if not page.documents:
            break
        seen.extend(d.id for d in page.documents)
        cursor = page.documents[-1].id
    rows = tables.list_rows(db, "people", [Query.limit(100)])
    assert seen == [r.id for r in rows.rows] and len(seen) == 30


def test_unknown_legacy_route_is_route_not_found(client: Client, db: str) -> None:
    with pytest.raises(AppwriteException) as err:
        raw(client, "get", f"/databases/{db}/collections/people/nothing")
    assert (err.value.code, err.value.type) == (404, "general_route_not_found")


def test_documents_of_a_fresh_database_path(tmp_path: Path) -> None:
    """A server restarted on the same file serves the legacy API over the same data."""
    path = tmp_path / "again.db"
    first = start_local_server(path, api_key="k-" + uuid.uuid4().hex)
    try:
        legacy = Databases(sdk_client_for(first))
        legacy.create("keep", "Keep")
        people(legacy, "keep")
        legacy.create_document("keep", "people", "ann", {"name": "Ann"})
    finally:
        first.stop()
    second = start_local_server(path, api_key=first.api_key)
    try:
        got = Databases(sdk_client_for(second)).get_document("keep", "people", "ann")
        assert got.collectionid == "people" and got.data["name"] == "Ann"
    finally:
        second.stop()


def test_metadata_queries_use_legacy_field_names(
    client: Client, legacy: Databases, db: str
) -> None:
    people(legacy, db)
    legacy.create_collection(db, "open", "Open", document_security=False)
    secured = legacy.list_collections(db, [Query.equal("documentSecurity", [True])])
    assert [c.id for c in secured.collections] == ["people"]
    base = f"/databases/{db}/collections/people/indexes"
    found = raw(client, "get", base, {"queries": [Query.contains("attributes", ["name"])]})
    assert [i["key"] for i in found["indexes"]] == ["by_name"]


def test_quoted_user_keys_in_messages_are_not_renamed(legacy: Databases, db: str) -> None:
    people(legacy, db)
    with pytest.raises(AppwriteException) as err:
        legacy.create_document(db, "people", "x", {"name": "X", "rows": 1})
    assert err.value.type == "document_invalid_structure"
    assert '"rows"' in err.value.message


def test_legacy_transactions_stage_documents_and_commit_or_roll_back(
    local_server: LocalServer, legacy: Databases, db: str
) -> None:
    """`/v1/databases/transactions…` (deprecated, still served by 1.9.6): operations name
    collectionId/documentId, documents routes take transactionId, commits apply as one."""
    people(legacy, db)
    tx = legacy.create_transaction(ttl=120)
    assert (tx.status, tx.operations) == ("pending", 0)
    staged = legacy.create_operations(
        tx.id,
        [
            {"action": "create", "databaseId": db, "collectionId": "people",
             "documentId": "ann", "data": {"name": "Ann", "age": 30}},
        ],
    )  # fmt: skip
    assert staged.operations == 1
    mock = legacy.create_document(db, "people", "bob", {"name": "Bob"}, transaction_id=tx.id)
    assert mock.collectionid == "people"
    inside = legacy.list_documents(db, "people", transaction_id=tx.id)
    assert {d.id for d in inside.documents} == {"ann", "bob"}
    assert legacy.list_documents(db, "people").total == 0
    assert [t.id for t in legacy.list_transactions().transactions] == [tx.id]
    assert legacy.update_transaction(tx.id, commit=True).status == "committed"
    assert {d.id for d in legacy.list_documents(db, "people").documents} == {"ann", "bob"}

    other = legacy.create_transaction()
    legacy.delete_document(db, "people", "ann", transaction_id=other.id)
    assert legacy.update_transaction(other.id, rollback=True).status == "failed"
    assert legacy.get_document(db, "people", "ann").id == "ann"
    with pytest.raises(AppwriteException) as caught:
        legacy.create_operations(
            other.id,
            [{"action": "delete", "databaseId": db, "collectionId": "people", "documentId": "ann"}],
        )
    assert caught.value.code == 400  # no longer pending
    reader = Databases(sdk_client_for(local_server, LEGACY_READ_KEY))
    assert reader.get_transaction(tx.id).status == "committed"
    with pytest.raises(AppwriteException) as caught:
        reader.create_transaction()
    assert (caught.value.code, caught.value.type) == (401, "general_unauthorized_scope")


def test_bulk_refusals_read_in_legacy_words() -> None:
    """Appwrite's messages name getSDKNamespace() and getGroupId(): tablesDB/tableId there,
    databases/collectionId on the legacy API."""
    assert legacy_message(
        "Bulk create is not supported for tablesDB with relationship columns"
    ) == ("Bulk create is not supported for databases with relationship attributes")
    assert legacy_message(
        "Bulk operations are not supported for tableId with relationship attributes"
    ) == ("Bulk operations are not supported for collectionId with relationship attributes")
