"""The TablesDB routes (`/v1/tablesdb/...`) and `/v1/health`: parameters → operations → replies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workbook.local import catalog, rows, table_schema, transactions
from workbook.local.errors import appwrite_error, bad_request, invalid_argument
from workbook.local.http import ApiRequest, ApiRoute, Handler, Reply
from workbook.local.listing import apply_queries
from workbook.local.params import (
    UID_DESCRIPTION,
    bool_param,
    float_param,
    int_param,
    is_key,
    list_param,
    object_param,
    string_list_param,
    text_param,
    uid_param,
)
from workbook.local.state import ServerState

DB_READ = ("databases.read",)
DB_WRITE = ("databases.write",)
TABLES_READ = ("tables.read", "collections.read")
TABLES_WRITE = ("tables.write", "collections.write")
COLUMNS_READ = ("tables.read", "collections.read", "columns.read", "attributes.read")
COLUMNS_WRITE = ("tables.write", "collections.write", "columns.write", "attributes.write")
INDEXES_READ = ("tables.read", "collections.read", "indexes.read")
INDEXES_WRITE = ("tables.write", "collections.write", "indexes.write")
ROWS_READ = ("rows.read", "documents.read")
ROWS_WRITE = ("rows.write", "documents.write")
HEALTH = ("health.read",)
PUBLIC = ("public",)


# What each metadata list lets queries filter and order on (beyond $id, $createdAt, $updatedAt
# and $sequence): Appwrite's Queries\\<List>::ALLOWED_* less the names its metadata collection
# lacks, so TablesDB refuses `rowSecurity` (the collection calls it documentSecurity) and an
# index list takes `attributes` for its `columns`.
DATABASE_QUERIES = ("name",)
TABLE_QUERIES = ("name", "enabled")
COLUMN_QUERIES = ("key", "type", "size", "required", "array", "status", "error")
INDEX_QUERIES = ("key", "type", "status", "attributes", "error")
TRANSACTION_QUERIES = ("status", "expiresAt")


def queries_param(request: ApiRequest) -> list[str]:
    return string_list_param(request.params, "queries", default=[], max_len=4096)


def total_param(request: ApiRequest) -> bool:
    return bool_param(request.params, "total", default=True)


def _listed(
    request: ApiRequest,
    items: list[dict[str, Any]],
    name: str,
    allowed: tuple[str, ...],
    id_field: str = "$id",
    fields: Mapping[str, str] | None = None,
) -> Reply:
    search = text_param(request.params, "search", max_len=256, default=None)
    total, page = apply_queries(
        items,
        queries_param(request),
        allowed=allowed,
        id_field=id_field,
        fields=fields,
        search=search,
        with_total=total_param(request),
    )
    return Reply(200, {"total": total, name: page})


# --- health ---------------------------------------------------------------------------------


def health_version(state: ServerState, request: ApiRequest) -> Reply:
    from workbook.local.errors import APPWRITE_VERSION

    return Reply(200, {"version": APPWRITE_VERSION})


def health(state: ServerState, request: ApiRequest) -> Reply:
    with state.store.read() as conn:
        conn.execute("SELECT 1").fetchone()
    return Reply(200, {"name": "http", "status": "pass", "ping": 0})


# --- databases ------------------------------------------------------------------------------


def list_databases(state: ServerState, request: ApiRequest) -> Reply:
    return _listed(request, catalog.list_databases(state), "databases", DATABASE_QUERIES)


def create_database(state: ServerState, request: ApiRequest, type: str = "tablesdb") -> Reply:
    p = request.params
    database_id = uid_param(p, "databaseId")
    name = text_param(p, "name", max_len=128)
    enabled = bool_param(p, "enabled", default=True)
    return Reply(201, catalog.create_database(state, database_id, name, enabled, type))


def get_database(state: ServerState, request: ApiRequest) -> Reply:
    return Reply(200, catalog.get_database(state, request.path["databaseId"]))


def update_database(state: ServerState, request: ApiRequest) -> Reply:
    p = request.params
    name = text_param(p, "name", max_len=128, default=None)
    enabled = bool_param(p, "enabled", default=None)
    return Reply(200, catalog.update_database(state, request.path["databaseId"], name, enabled))


def delete_database(state: ServerState, request: ApiRequest) -> Reply:
    catalog.delete_database(state, request.path["databaseId"])
    return Reply(204)


# --- tables ---------------------------------------------------------------------------------


def list_tables(
    state: ServerState,
    request: ApiRequest,
    queryable: tuple[str, ...] = TABLE_QUERIES,
    fields: Mapping[str, str] | None = None,
) -> Reply:
    items = catalog.list_tables(state, request.path["databaseId"])
    return _listed(request, items, "tables", queryable, fields=fields)


def _permissions(request: ApiRequest, default: Any, *, table: bool = False) -> Any:
    value = request.params.get("permissions")
    if value is None:
        return default
    return rows.check_permissions(list_param(request.params, "permissions"), table=table)


def create_table(state: ServerState, request: ApiRequest) -> Reply:
    p = request.params
    table_id = uid_param(p, "tableId")
    name = text_param(p, "name", max_len=128)
    columns = list_param(p, "columns", default=[])
    indexes = list_param(p, "indexes", default=[])
    for position, item in enumerate(indexes):
        if not isinstance(item, dict):
            raise bad_request(
                "general_argument_invalid", f"Index at index {position} must be an object"
            )
    body = catalog.create_table(
        state,
        request.path["databaseId"],
        table_id,
        name,
        _permissions(request, [], table=True),
        bool_param(p, "rowSecurity", default=bool_param(p, "documentSecurity", default=False)),
        bool_param(p, "enabled", default=True),
        columns,
        indexes,
    )
    return Reply(201, body)


def get_table(state: ServerState, request: ApiRequest) -> Reply:
    return Reply(200, catalog.get_table(state, request.path["databaseId"], request.path["tableId"]))


def update_table(state: ServerState, request: ApiRequest) -> Reply:
    p = request.params
    security = bool_param(p, "rowSecurity", default=bool_param(p, "documentSecurity", default=None))
    body = catalog.update_table(
        state,
        request.path["databaseId"],
        request.path["tableId"],
        text_param(p, "name", max_len=128, default=None),
        _permissions(request, None, table=True),
        security,
        bool_param(p, "enabled", default=None),
    )
    return Reply(200, body)


def delete_table(state: ServerState, request: ApiRequest) -> Reply:
    catalog.delete_table(state, request.path["databaseId"], request.path["tableId"])
    return Reply(204)


# --- columns --------------------------------------------------------------------------------


def list_columns(state: ServerState, request: ApiRequest) -> Reply:
    items = table_schema.list_columns(state, request.path["databaseId"], request.path["tableId"])
    return _listed(request, items, "columns", COLUMN_QUERIES, id_field="key")


def create_column(state: ServerState, request: ApiRequest) -> Reply:
    body = table_schema.create_column(
        state,
        request.path["databaseId"],
        request.path["tableId"],
        request.path["type"],
        request.params,
    )
    return Reply(202, body)


def update_column(state: ServerState, request: ApiRequest) -> Reply:
    kind = request.path["type"]
    if kind == "relationship" or request.path["key"] == "relationship":
        return update_relationship(state, request)
    body = table_schema.update_column(
        state,
        request.path["databaseId"],
        request.path["tableId"],
        kind,
        request.path["key"],
        request.params,
    )
    return Reply(200, body)


def update_relationship(state: ServerState, request: ApiRequest) -> Reply:
    """Both `…/columns/{key}/relationship` (the server's) and `…/columns/relationship/{key}`
    (SDK 27's)."""
    path = request.path
    key = path["key"] if path.get("type", "relationship") == "relationship" else path["type"]
    if path.get("key") == "relationship" and "type" in path:
        key = path["type"]
    body = table_schema.update_relationship(
        state, path["databaseId"], path["tableId"], key, request.params
    )
    return Reply(200, body)


def _keyed(operation: Callable[[ServerState, str, str, str], Any], status: int) -> Handler:
    """The handler of a `…/columns/{key}` or `…/indexes/{key}` route: `operation`'s answer."""

    def handler(state: ServerState, request: ApiRequest) -> Reply:
        path = request.path
        return Reply(status, operation(state, path["databaseId"], path["tableId"], path["key"]))

    handler.__name__ = operation.__name__
    return handler


get_column = _keyed(table_schema.get_column, 200)
delete_column = _keyed(table_schema.delete_column, 204)


# --- indexes --------------------------------------------------------------------------------


def list_indexes(state: ServerState, request: ApiRequest) -> Reply:
    items = table_schema.list_indexes(state, request.path["databaseId"], request.path["tableId"])
    return _listed(
        request, items, "indexes", INDEX_QUERIES, id_field="key", fields={"attributes": "columns"}
    )


def create_index(state: ServerState, request: ApiRequest) -> Reply:
    params = dict(request.params)
    if "columns" not in params and "attributes" in params:
        params["columns"] = params["attributes"]
    path = request.path
    body = table_schema.create_index(state, path["databaseId"], path["tableId"], params)
    return Reply(202, body)


get_index = _keyed(table_schema.get_index, 200)
delete_index = _keyed(table_schema.delete_index, 204)


# --- rows -----------------------------------------------------------------------------------


def _transaction(request: ApiRequest) -> str | None:
    """The `transactionId` a row route was given, if any."""
    value = request.params.get("transactionId")
    if value is None:
        return None
    if not is_key(value):
        raise invalid_argument("transactionId", UID_DESCRIPTION)
    return value


def _stage(
    state: ServerState,
    request: ApiRequest,
    transaction_id: str,
    action: str,
    data: Any,
    row_id: str | None = None,
) -> None:
    path = request.path
    operation = {
        "action": action,
        "databaseId": path["databaseId"],
        "tableId": path["tableId"],
        "rowId": row_id,
        "data": data,
    }
    transactions.stage(state, transaction_id, [operation])


def _with_permissions(data: dict[str, Any], permissions: list[str] | None) -> dict[str, Any]:
    return data if permissions is None else {**data, "$permissions": permissions}


EMPTY_LIST = {"total": 0, "rows": []}


def list_rows(state: ServerState, request: ApiRequest) -> Reply:
    path = request.path

    def read() -> dict[str, Any]:
        return rows.list_rows(
            state, path["databaseId"], path["tableId"], queries_param(request), total_param(request)
        )

    transaction_id = _transaction(request)
    if transaction_id:
        return Reply(200, transactions.read_view(state, transaction_id, read))
    return Reply(200, read())


def create_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    """Single create (`rowId`, `data`) or bulk create (`rows`), as Appwrite tells them apart."""
    transaction_id = _transaction(request)
    p = request.params
    path = request.path
    data = object_param(p, "data", default={})
    batch = list_param(p, "rows", default=None, max_items=rows.BATCH_LIMIT)
    if not data and not batch:
        raise appwrite_error("row_missing_data")
    if data and batch:
        raise bad_request(
            "general_bad_request", "You can only send one of the following parameters: data, rows"
        )
    if data and not p.get(row_id_param):
        raise appwrite_error(
            "row_missing_data", message="Row ID is required when creating a single row."
        )
    if batch:
        if p.get(row_id_param):
            raise bad_request(
                "general_bad_request",
                f'Param "{row_id_param}" is not allowed when creating multiple rows, set "$id" '
                "on each instead.",
            )
        if p.get("permissions"):
            raise bad_request(
                "general_bad_request",
                'Param "permissions" is disallowed when creating multiple rows, set '
                '"$permissions" on each instead',
            )
        if transaction_id:
            rows.refuse_bulk_staging(state, path["databaseId"], path["tableId"], "create")
            _stage(state, request, transaction_id, "bulkCreate", rows.check_batch(batch))
            return Reply(201, EMPTY_LIST)
        return Reply(201, rows.create_rows(state, path["databaseId"], path["tableId"], batch))
    row_id = uid_param(p, row_id_param)
    permissions = _permissions(request, None)
    if transaction_id:
        _stage(
            state, request, transaction_id, "create", _with_permissions(data, permissions), row_id
        )
        mock = transactions.mock_row(
            state, path["databaseId"], path["tableId"], row_id, data, permissions
        )
        return Reply(201, mock)
    body = rows.create_row(state, path["databaseId"], path["tableId"], row_id, data, permissions)
    return Reply(201, body)


def upsert_rows(state: ServerState, request: ApiRequest) -> Reply:
    path = request.path
    batch = list_param(request.params, "rows", max_items=rows.BATCH_LIMIT)
    transaction_id = _transaction(request)
    if transaction_id:
        rows.refuse_bulk_staging(state, path["databaseId"], path["tableId"], "upsert")
        _stage(state, request, transaction_id, "bulkUpsert", rows.check_batch(batch))
        return Reply(200, EMPTY_LIST)
    return Reply(200, rows.upsert_rows(state, path["databaseId"], path["tableId"], batch))


def update_rows(state: ServerState, request: ApiRequest) -> Reply:
    path = request.path
    data = object_param(request.params, "data", default={})
    transaction_id = _transaction(request)
    if transaction_id:
        if not data:
            raise appwrite_error("row_missing_payload")
        rows.refuse_bulk_staging(state, path["databaseId"], path["tableId"], "update")
        queries = queries_param(request)
        _stage(state, request, transaction_id, "bulkUpdate", {"data": data, "queries": queries})
        return Reply(200, EMPTY_LIST)
    body = rows.update_rows(
        state, path["databaseId"], path["tableId"], data, queries_param(request)
    )
    return Reply(200, body)


def delete_rows(state: ServerState, request: ApiRequest) -> Reply:
    path = request.path
    transaction_id = _transaction(request)
    if transaction_id:
        rows.refuse_bulk_staging(state, path["databaseId"], path["tableId"], "delete")
        queries = queries_param(request)
        _stage(state, request, transaction_id, "bulkDelete", {"queries": queries})
        return Reply(200, EMPTY_LIST)
    body = rows.delete_rows(state, path["databaseId"], path["tableId"], queries_param(request))
    return Reply(200, body)


def get_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    path = request.path

    def read() -> dict[str, Any]:
        return rows.get_row(
            state, path["databaseId"], path["tableId"], path[row_id_param], queries_param(request)
        )

    transaction_id = _transaction(request)
    if transaction_id:
        return Reply(200, transactions.read_view(state, transaction_id, read))
    return Reply(200, read())


def upsert_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    path = request.path
    data = object_param(request.params, "data", default={})
    permissions = _permissions(request, None)
    if not data and permissions is None:
        raise appwrite_error("row_missing_payload")
    transaction_id = _transaction(request)
    if transaction_id:
        row_id = path[row_id_param]
        _stage(
            state, request, transaction_id, "upsert", _with_permissions(data, permissions), row_id
        )
        mock = transactions.mock_row(
            state, path["databaseId"], path["tableId"], row_id, data, permissions
        )
        return Reply(200, mock)
    body = rows.upsert_row(
        state, path["databaseId"], path["tableId"], path[row_id_param], data, permissions
    )
    return Reply(200, body)


def update_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    path = request.path
    data = object_param(request.params, "data", default={})
    transaction_id = _transaction(request)
    if transaction_id:
        permissions = _permissions(request, None)
        if not data and permissions is None:
            raise appwrite_error("row_missing_payload")
        row_id = path[row_id_param]
        _stage(
            state, request, transaction_id, "update", _with_permissions(data, permissions), row_id
        )
        mock = transactions.mock_row(
            state, path["databaseId"], path["tableId"], row_id, data, permissions
        )
        return Reply(200, mock)
    body = rows.update_row(
        state,
        path["databaseId"],
        path["tableId"],
        path[row_id_param],
        data,
        _permissions(request, None),
    )
    return Reply(200, body)


def delete_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    path = request.path
    transaction_id = _transaction(request)
    if transaction_id:
        _stage(state, request, transaction_id, "delete", None, path[row_id_param])
        return Reply(204)
    rows.delete_row(state, path["databaseId"], path["tableId"], path[row_id_param])
    return Reply(204)


def _step(state: ServerState, request: ApiRequest, sign: int, row_id_param: str) -> Reply:
    path = request.path
    p = request.params
    value = float_param(p, "value", default=1)
    if value <= 0:
        raise bad_request("general_argument_invalid", "Value must be numeric and greater than 0")
    bound = float_param(p, "max" if sign > 0 else "min", default=None)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    transaction_id = _transaction(request)
    if transaction_id:
        row_id = path[row_id_param]
        bound_key = "max" if sign > 0 else "min"
        staged = {"column": path["column"], "value": value, bound_key: bound}
        action = "increment" if sign > 0 else "decrement"
        _stage(state, request, transaction_id, action, staged, row_id)
        return Reply(
            200, transactions.mock_row(state, path["databaseId"], path["tableId"], row_id, {}, None)
        )
    body = rows.increment(
        state,
        path["databaseId"],
        path["tableId"],
        path[row_id_param],
        path["column"],
        sign * value,
        bound,
    )
    return Reply(200, body)


def increment_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    return _step(state, request, 1, row_id_param)


def decrement_row(state: ServerState, request: ApiRequest, row_id_param: str = "rowId") -> Reply:
    return _step(state, request, -1, row_id_param)


# --- transactions ---------------------------------------------------------------------------


def create_transaction(state: ServerState, request: ApiRequest) -> Reply:
    ttl = int_param(
        request.params,
        "ttl",
        default=transactions.TTL_DEFAULT,
        lo=transactions.TTL_MIN,
        hi=transactions.TTL_MAX,
    )
    return Reply(201, transactions.create(state, ttl))


def list_transactions(state: ServerState, request: ApiRequest) -> Reply:
    return _listed(
        request,
        transactions.list_all(state),
        "transactions",
        TRANSACTION_QUERIES,
    )


def get_transaction(state: ServerState, request: ApiRequest) -> Reply:
    return Reply(200, transactions.get(state, request.path["transactionId"]))


def update_transaction(state: ServerState, request: ApiRequest) -> Reply:
    p = request.params
    body = transactions.finish(
        state,
        request.path["transactionId"],
        bool_param(p, "commit", default=False),
        bool_param(p, "rollback", default=False),
    )
    return Reply(200, body)


def delete_transaction(state: ServerState, request: ApiRequest) -> Reply:
    transactions.delete(state, request.path["transactionId"])
    return Reply(204)


def create_operations(state: ServerState, request: ApiRequest) -> Reply:
    operations = transactions.check_operations(
        list_param(request.params, "operations", default=[], max_items=1000)
    )
    transaction_id = request.path["transactionId"]
    transactions.stage(state, transaction_id, operations)
    return Reply(201, transactions.get(state, transaction_id))


TX = "/v1/tablesdb/transactions"
T = "/v1/tablesdb/{databaseId}/tables/{tableId}"

ROUTES: list[ApiRoute] = [
    ApiRoute("GET", "/v1/health/version", health_version, PUBLIC),
    ApiRoute("GET", "/v1/health", health, HEALTH),
    ApiRoute("GET", TX, list_transactions, ROWS_READ),
    ApiRoute("POST", TX, create_transaction, ROWS_WRITE),
    ApiRoute("GET", TX + "/{transactionId}", get_transaction, ROWS_READ),
    ApiRoute("PATCH", TX + "/{transactionId}", update_transaction, ROWS_WRITE),
    ApiRoute("DELETE", TX + "/{transactionId}", delete_transaction, ROWS_WRITE),
    ApiRoute("POST", TX + "/{transactionId}/operations", create_operations, ROWS_WRITE),
    ApiRoute("GET", "/v1/tablesdb", list_databases, DB_READ),
    ApiRoute("POST", "/v1/tablesdb", create_database, DB_WRITE),
    ApiRoute("GET", "/v1/tablesdb/{databaseId}", get_database, DB_READ),
    ApiRoute("PUT", "/v1/tablesdb/{databaseId}", update_database, DB_WRITE),
    ApiRoute("DELETE", "/v1/tablesdb/{databaseId}", delete_database, DB_WRITE),
    ApiRoute("GET", "/v1/tablesdb/{databaseId}/tables", list_tables, TABLES_READ),
    ApiRoute("POST", "/v1/tablesdb/{databaseId}/tables", create_table, TABLES_WRITE),
    ApiRoute("GET", T, get_table, TABLES_READ),
    ApiRoute("PUT", T, update_table, TABLES_WRITE),
    ApiRoute("DELETE", T, delete_table, TABLES_WRITE),
    ApiRoute("GET", T + "/columns", list_columns, COLUMNS_READ),
    ApiRoute("POST", T + "/columns/{type}", create_column, COLUMNS_WRITE),
    ApiRoute("PATCH", T + "/columns/{key}/relationship", update_relationship, COLUMNS_WRITE),
    ApiRoute("PATCH", T + "/columns/{type}/{key}", update_column, COLUMNS_WRITE),
    ApiRoute("GET", T + "/columns/{key}", get_column, COLUMNS_READ),
    ApiRoute("DELETE", T + "/columns/{key}", delete_column, COLUMNS_WRITE),
    ApiRoute("GET", T + "/indexes", list_indexes, INDEXES_READ),
    ApiRoute("POST", T + "/indexes", create_index, INDEXES_WRITE),
    ApiRoute("GET", T + "/indexes/{key}", get_index, INDEXES_READ),
    ApiRoute("DELETE", T + "/indexes/{key}", delete_index, INDEXES_WRITE),
    ApiRoute("GET", T + "/rows", list_rows, ROWS_READ),
    ApiRoute("POST", T + "/rows", create_row, ROWS_WRITE),
    ApiRoute("PUT", T + "/rows", upsert_rows, ROWS_WRITE),
    ApiRoute("PATCH", T + "/rows", update_rows, ROWS_WRITE),
    ApiRoute("DELETE", T + "/rows", delete_rows, ROWS_WRITE),
    ApiRoute("GET", T + "/rows/{rowId}", get_row, ROWS_READ),
    ApiRoute("PUT", T + "/rows/{rowId}", upsert_row, ROWS_WRITE),
    ApiRoute("PATCH", T + "/rows/{rowId}", update_row, ROWS_WRITE),
    ApiRoute("DELETE", T + "/rows/{rowId}", delete_row, ROWS_WRITE),
    ApiRoute("PATCH", T + "/rows/{rowId}/{column}/increment", increment_row, ROWS_WRITE),
    ApiRoute("PATCH", T + "/rows/{rowId}/{column}/decrement", decrement_row, ROWS_WRITE),
]
