"""The legacy `/v1/databases` API (collections, attributes, documents) over the TablesDB data.

Appwrite serves both APIs from one store; each legacy route is its TablesDB twin with
renamed words (reference §1 "Parallel legacy API"). The official CLI needs it: `appwrite
push tables` creates columns and indexes through `/v1/databases/.../attributes|indexes`.
So every legacy route here wraps the TablesDB handler of `routes.py`: it renames the
request (path and body), calls the handler, renames the reply, and turns TablesDB error
types and messages into the legacy ones. Legacy routes accept only the legacy scopes.

Renames touch structure, never user data: a document's own fields pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from starlette.routing import Route

from workbook.local import routes as tablesdb
from workbook.local.errors import AppwriteError
from workbook.local.http import ApiRequest, ApiRoute, Handler, Reply, starlette_routes
from workbook.local.state import ServerState

DB_READ = ("databases.read",)
DB_WRITE = ("databases.write",)
COLLECTIONS_READ = ("collections.read",)
COLLECTIONS_WRITE = ("collections.write",)
DOCUMENTS_READ = ("documents.read",)
DOCUMENTS_WRITE = ("documents.write",)

# Request parameters (path and body) the legacy API names differently.
PARAM_RENAMES = {
    "collectionId": "tableId",
    "documentId": "rowId",
    "documentSecurity": "rowSecurity",
    "relatedCollectionId": "relatedTableId",
    "attribute": "column",
    "documents": "rows",
}

# TablesDB error types whose legacy name is not a plain prefix swap.
ERROR_TYPES = {
    "column_index_not_found": "index_not_found",
    "column_index_already_exists": "index_already_exists",
    "column_index_limit_exceeded": "index_limit_exceeded",
    "column_index_invalid": "index_invalid",
    "column_index_dependency": "index_dependency",
    "COLUMN_TYPE_NOT_SUPPORTED": "ATTRIBUTE_TYPE_NOT_SUPPORTED",
}
ERROR_PREFIXES = (("row_", "document_"), ("column_", "attribute_"), ("table_", "collection_"))

# Words in error messages: TablesDB's vocabulary to the legacy one (whole words only).
MESSAGE_WORDS = {
    "Table": "Collection",
    "table": "collection",
    "Tables": "Collections",
    "tables": "collections",
    "Column": "Attribute",
    "column": "attribute",
    "Columns": "Attributes",
    "columns": "attributes",
    "Row": "Document",
    "row": "document",
    "Rows": "Documents",
    "rows": "documents",
    "tablesDB": "databases",  # getSDKNamespace()
    "tableId": "collectionId",  # getGroupId(), unquoted in transaction messages
}
# Parameter names, renamed where utopia quotes a parameter: `tableId` and Param "tableId".
MESSAGE_PARAMS = {
    "tableId": "collectionId",
    "rowId": "documentId",
    "rowSecurity": "documentSecurity",
    "relatedTableId": "relatedCollectionId",
    "columns": "attributes",
    "rows": "documents",
}
_MESSAGE_RE = re.compile(
    r"""(?P<param>`[^`]*`|Param "[^"]*")|(?P<quoted>"[^"]*"|'[^']*')|\b(?P<word>"""
    + "|".join(sorted(MESSAGE_WORDS, key=len, reverse=True))
    + r")\b"
)


def _message_part(match: re.Match[str]) -> str:
    """Rename a parameter or a word; other quoted text is user data and stays."""
    if match.group("param") is not None:
        text = match.group("param")
        name = text.split('"')[1] if text.startswith("Param") else text[1:-1]
        return text.replace(name, MESSAGE_PARAMS[name]) if name in MESSAGE_PARAMS else text
    if match.group("quoted") is not None:
        return match.group("quoted")
    return MESSAGE_WORDS[match.group("word")]


def legacy_error_type(kind: str) -> str:
    if kind in ERROR_TYPES:
        return ERROR_TYPES[kind]
    for new, old in ERROR_PREFIXES:
        if kind.startswith(new):
            return old + kind[len(new) :]
    return kind


def legacy_message(message: str) -> str:
    """Legacy words in a message; quoted user keys stay as they are."""
    return _MESSAGE_RE.sub(_message_part, message)


def legacy_error(error: AppwriteError) -> AppwriteError:
    return AppwriteError(error.code, legacy_error_type(error.type), legacy_message(error.message))


def _renamed(mapping: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """A copy with keys renamed in place (order kept); unknown keys pass unchanged."""
    return {renames.get(key, key): value for key, value in mapping.items()}


def tablesdb_request(request: ApiRequest) -> ApiRequest:
    """The legacy request as its TablesDB twin expects it."""
    params = _renamed(request.params, PARAM_RENAMES)
    if "attributes" in params and "columns" not in params:
        # Inline schema of a collection create, or an index's attribute list.
        params["columns"] = params.pop("attributes")
    return ApiRequest(
        method=request.method,
        path=_renamed(request.path, PARAM_RENAMES),
        params=params,
        headers=request.headers,
    )


# --- replies --------------------------------------------------------------------------------


def legacy_attribute(column: Mapping[str, Any]) -> dict[str, Any]:
    return _renamed(column, {"relatedTable": "relatedCollection"})


def legacy_index(index: Mapping[str, Any]) -> dict[str, Any]:
    return _renamed(index, {"columns": "attributes"})


def legacy_collection(table: Mapping[str, Any]) -> dict[str, Any]:
    body = _renamed(table, {"rowSecurity": "documentSecurity", "columns": "attributes"})
    body["attributes"] = [legacy_attribute(c) for c in body.get("attributes", [])]
    body["indexes"] = [legacy_index(i) for i in body.get("indexes", [])]
    return body


def legacy_document(row: Mapping[str, Any]) -> dict[str, Any]:
    return _renamed(row, {"$tableId": "$collectionId"})


Shape = Callable[[Mapping[str, Any]], dict[str, Any]]


def listed(list_key: str, legacy_key: str, shape: Shape) -> Shape:
    """A list reply `{total, <list_key>: [...]}` renamed, each item by `shape`."""

    def convert(body: Mapping[str, Any]) -> dict[str, Any]:
        out = _renamed(body, {list_key: legacy_key})
        out[legacy_key] = [shape(item) for item in body.get(list_key, [])]
        return out

    return convert


def created_documents(body: Mapping[str, Any]) -> dict[str, Any]:
    """`POST …/documents` answers one document, or `{total, documents}` for a bulk create."""
    if "$id" not in body and isinstance(body.get("rows"), list):
        return DOCUMENTS(body)
    return legacy_document(body)


COLLECTIONS = listed("tables", "collections", legacy_collection)
ATTRIBUTES = listed("columns", "attributes", legacy_attribute)
INDEXES = listed("indexes", "indexes", legacy_index)
DOCUMENTS = listed("rows", "documents", legacy_document)


def wrap(handler: Handler, reply_shape: Shape | None) -> Handler:
    """The legacy handler: rename in, call the TablesDB handler, rename out (errors too)."""

    def legacy_handler(state: ServerState, request: ApiRequest) -> Reply:
        try:
            reply = handler(state, tablesdb_request(request))
        except AppwriteError as error:
            raise legacy_error(error) from None
        if reply_shape is not None and isinstance(reply.body, Mapping):
            return Reply(reply.status, reply_shape(reply.body))
        return reply

    legacy_handler.__name__ = f"legacy_{getattr(handler, '__name__', 'handler')}"
    return legacy_handler


def create_legacy_operations(state: ServerState, request: ApiRequest) -> Reply:
    """`POST /v1/databases/transactions/{id}/operations`: each operation names its collection
    and document (Appwrite's `Operation('legacy')` validator) where TablesDB's names a table
    and a row."""
    params = dict(request.params)
    if isinstance(params.get("operations"), list):
        params["operations"] = [
            _renamed(op, PARAM_RENAMES) if isinstance(op, Mapping) else op
            for op in params["operations"]
        ]
    renamed = ApiRequest(request.method, request.path, params, request.headers)
    return tablesdb.create_operations(state, renamed)


def list_collections(state: ServerState, request: ApiRequest) -> Reply:
    """Appwrite's Queries\\Collections takes `documentSecurity` (TablesDB's list does not take
    `rowSecurity`): the same list, queried by the legacy name."""
    return tablesdb.list_tables(
        state,
        request,
        queryable=(*tablesdb.TABLE_QUERIES, "documentSecurity"),
        fields={"documentSecurity": "rowSecurity"},
    )


def create_legacy_database(state: ServerState, request: ApiRequest) -> Reply:
    """`POST /v1/databases` makes a database of type `legacy`, as Appwrite does."""
    return tablesdb.create_database(state, request, type="legacy")


TX = "/v1/databases/transactions"
D = "/v1/databases/{databaseId}"
C = D + "/collections/{collectionId}"


def _route(
    method: str,
    path: str,
    handler: Handler,
    scopes: tuple[str, ...],
    shape: Shape | None,
) -> ApiRoute:
    return ApiRoute(method, path, wrap(handler, shape), scopes)


LEGACY_ROUTES: list[ApiRoute] = [
    # Before `D`, which would take "transactions" for a database id. Deprecated since 1.8.0
    # (replaced by tablesDB.*) but served by 1.9.6 with the same semantics and legacy scopes.
    _route("GET", TX, tablesdb.list_transactions, DOCUMENTS_READ, None),
    _route("POST", TX, tablesdb.create_transaction, DOCUMENTS_WRITE, None),
    _route("GET", TX + "/{transactionId}", tablesdb.get_transaction, DOCUMENTS_READ, None),
    _route("PATCH", TX + "/{transactionId}", tablesdb.update_transaction, DOCUMENTS_WRITE, None),
    _route("DELETE", TX + "/{transactionId}", tablesdb.delete_transaction, DOCUMENTS_WRITE, None),
    _route(
        "POST", TX + "/{transactionId}/operations", create_legacy_operations, DOCUMENTS_WRITE, None
    ),  # fmt: skip
    _route("GET", "/v1/databases", tablesdb.list_databases, DB_READ, None),
    _route("POST", "/v1/databases", create_legacy_database, DB_WRITE, None),
    _route("GET", D, tablesdb.get_database, DB_READ, None),
    _route("PUT", D, tablesdb.update_database, DB_WRITE, None),
    _route("DELETE", D, tablesdb.delete_database, DB_WRITE, None),
    _route("GET", D + "/collections", list_collections, COLLECTIONS_READ, COLLECTIONS),
    _route("POST", D + "/collections", tablesdb.create_table, COLLECTIONS_WRITE, legacy_collection),
    _route("GET", C, tablesdb.get_table, COLLECTIONS_READ, legacy_collection),
    _route("PUT", C, tablesdb.update_table, COLLECTIONS_WRITE, legacy_collection),
    _route("DELETE", C, tablesdb.delete_table, COLLECTIONS_WRITE, None),
    _route("GET", C + "/attributes", tablesdb.list_columns, COLLECTIONS_READ, ATTRIBUTES),
    _route(
        "POST",
        C + "/attributes/{type}",
        tablesdb.create_column,
        COLLECTIONS_WRITE,
        legacy_attribute,
    ),
    _route(
        "PATCH",
        C + "/attributes/{key}/relationship",
        tablesdb.update_relationship,
        COLLECTIONS_WRITE,
        legacy_attribute,
    ),
    _route(
        "PATCH",
        C + "/attributes/{type}/{key}",
        tablesdb.update_column,
        COLLECTIONS_WRITE,
        legacy_attribute,
    ),
    _route("GET", C + "/attributes/{key}", tablesdb.get_column, COLLECTIONS_READ, legacy_attribute),
    _route("DELETE", C + "/attributes/{key}", tablesdb.delete_column, COLLECTIONS_WRITE, None),
    _route("GET", C + "/indexes", tablesdb.list_indexes, COLLECTIONS_READ, INDEXES),
    _route("POST", C + "/indexes", tablesdb.create_index, COLLECTIONS_WRITE, legacy_index),
    _route("GET", C + "/indexes/{key}", tablesdb.get_index, COLLECTIONS_READ, legacy_index),
    _route("DELETE", C + "/indexes/{key}", tablesdb.delete_index, COLLECTIONS_WRITE, None),
    _route("GET", C + "/documents", tablesdb.list_rows, DOCUMENTS_READ, DOCUMENTS),
    _route("POST", C + "/documents", tablesdb.create_row, DOCUMENTS_WRITE, created_documents),
    _route("PUT", C + "/documents", tablesdb.upsert_rows, DOCUMENTS_WRITE, DOCUMENTS),
    _route("PATCH", C + "/documents", tablesdb.update_rows, DOCUMENTS_WRITE, DOCUMENTS),
    _route("DELETE", C + "/documents", tablesdb.delete_rows, DOCUMENTS_WRITE, DOCUMENTS),
    _route("GET", C + "/documents/{documentId}", tablesdb.get_row, DOCUMENTS_READ, legacy_document),
    _route(
        "PUT", C + "/documents/{documentId}", tablesdb.upsert_row, DOCUMENTS_WRITE, legacy_document
    ),
    _route(
        "PATCH",
        C + "/documents/{documentId}",
        tablesdb.update_row,
        DOCUMENTS_WRITE,
        legacy_document,
    ),
    _route("DELETE", C + "/documents/{documentId}", tablesdb.delete_row, DOCUMENTS_WRITE, None),
    _route(
        "PATCH",
        C + "/documents/{documentId}/{attribute}/increment",
        tablesdb.increment_row,
        DOCUMENTS_WRITE,
        legacy_document,
    ),
    _route(
        "PATCH",
        C + "/documents/{documentId}/{attribute}/decrement",
        tablesdb.decrement_row,
        DOCUMENTS_WRITE,
        legacy_document,
    ),
]


def routes(state: ServerState) -> list[Route]:
    """The Starlette routes of the legacy API, for `build_app(state, extra_routes=...)`."""
    return starlette_routes(state, LEGACY_ROUTES)
