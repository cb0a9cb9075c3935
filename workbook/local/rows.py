"""Rows: utopia's Structure validation, defaults, the real SQL writes, and Appwrite's Row shape.

Writes are planned in Python first, row by row in request order (so the first invalid row is the
one reported), then sent to SQLite as few statements as possible: consecutive writes of the same
shape go as one `executemany`. A row is held as a list in `RowCodec.row_names` order (system
columns, then user columns as stored), which is also what answers are built from, so a write
never reads back the rows it has just written.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbook.local import operators, relationships
from workbook.local.errors import (
    AppwriteError,
    appwrite_error,
    bad_request,
    invalid_argument,
    query_invalid,
)
from workbook.local.meta import TableRef
from workbook.local.params import REQUEST_TIME, is_key, new_uid, now_iso, parse_datetime
from workbook.local.queries import (
    Query,
    Resolver,
    TableScope,
    build_list_sql,
    build_where,
    parse_queries,
)
from workbook.local.row_codec import RowCodec, structure_error
from workbook.local.state import ServerState
from workbook.local.store import quote
from workbook.local.table_cache import TableSchema

BATCH_LIMIT = 100
STRIPPED = frozenset(("$sequence", "$databaseId", "$tableId", "$collectionId", "$collection"))
SETTABLE = frozenset(("$id", "$permissions", "$createdAt", "$updatedAt"))
_PERMISSION_RE = re.compile(r'^(read|create|update|delete|write)\(".+"\)$')

State = list[Any]  # one row in `RowCodec.row_names` order; `_seq` None until inserted


def row_not_found(row_id: str) -> AppwriteError:
    return appwrite_error("row_not_found", row_id)


def check_permissions(
    permissions: object, param: str = "permissions", *, table: bool = False
) -> list[str]:
    """Validate permission strings; `write(role)` becomes update and delete (and create, on a
    table), as utopia's Permission::aggregate does."""
    if type(permissions) is list and not permissions:
        return []
    if (
        not isinstance(permissions, list)
        or len(permissions) > 100
        or not all(isinstance(p, str) and _PERMISSION_RE.match(p) for p in permissions)
    ):
        raise invalid_argument(
            param,
            'Permissions must be an array of strings like read("any"), no longer than 100 items.',
        )
    expanded: list[str] = []
    for permission in permissions:
        if permission.startswith("write("):
            role = permission[len("write") :]
            expanded += [f"create{role}"] if table else []
            expanded += [f"update{role}", f"delete{role}"]
        else:
            expanded.append(permission)
    return list(dict.fromkeys(expanded))


def _permissions_json(permissions: list[str]) -> str:
    return json.dumps(permissions) if permissions else "[]"


def _split_system(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """User values and the `$` fields a client may set ($id, $permissions, dates)."""
    user: dict[str, Any] = {}
    system: dict[str, Any] = {}
    for key, value in data.items():
        if key[:1] != "$":
            user[key] = value
        elif key in SETTABLE:
            system[key] = value
        elif key not in STRIPPED:
            raise structure_error(f'Unknown attribute: "{key}"')
    return user, system


def _dates(system: Mapping[str, Any]) -> dict[str, str]:
    dates: dict[str, str] = {}
    for key, sql in (("$createdAt", "_createdAt"), ("$updatedAt", "_updatedAt")):
        value = system.get(key)
        if value is None:
            continue
        normalized = parse_datetime(value)
        if normalized is None:
            raise structure_error(
                f'Attribute "{key}" has invalid type. Value must be valid date between '
                "0000-01-01 00:00:00 and 9999-12-31 23:59:59."
            )
        dates[sql] = normalized
    return dates


def _integrity(exc: sqlite3.IntegrityError, row_id: str) -> AppwriteError:
    if "._uid" in str(exc):
        return appwrite_error("row_already_exists", row_id)
    return appwrite_error("row_unique_constraint_violation")


def _row_id(value: object) -> str:
    if value == "unique()" or value is None or value == "":
        return new_uid()
    if not is_key(value):
        raise invalid_argument(
            "rowId",
            "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, "
            "hyphen, and underscore. Can't start with a special char",
        )
    assert isinstance(value, str)
    return value


# --- reading stored rows ----------------------------------------------------------------------


def _resolver(conn: sqlite3.Connection, state: ServerState, database_id: str) -> Resolver:
    """How filters reach a related table (`author.name`), within this database."""

    def resolve(table_id: str) -> TableScope:
        related = state.tables.get(conn, database_id, table_id)
        return TableScope(
            related.ref.sql,
            related.specs,
            relationships.query_specs(related.relations),
            related.fulltext,
        )

    return resolve


def _select(schema: TableSchema) -> str:
    names = ", ".join(quote(name) for name in schema.codec.row_names)
    return f"SELECT {names} FROM {schema.ref.sql}"


def _tuples(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows as plain tuples (the row builders index them), whatever the connection's factory."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params).fetchall()


def _load(conn: sqlite3.Connection, schema: TableSchema, row_id: str) -> State | None:
    found = _tuples(conn, _select(schema) + " WHERE _uid = ?", (row_id,))
    return list(found[0]) if found else None


def _load_many(
    conn: sqlite3.Connection, schema: TableSchema, row_ids: Sequence[str]
) -> dict[str, State]:
    unique = list(dict.fromkeys(row_ids))
    if not unique:
        return {}
    marks = ", ".join("?" for _ in unique)
    found = _tuples(conn, _select(schema) + f" WHERE _uid IN ({marks})", unique)
    return {row[1]: list(row) for row in found}


def _bodies(schema: TableSchema, states: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    build = schema.codec.builder(schema.codec.row_names)
    return [build(state) for state in states]


# --- planning writes --------------------------------------------------------------------------


@dataclass
class _Write:
    """One statement execution; `row_id` names the row if it breaks a unique constraint."""

    sql: str
    params: list[Any]
    row_id: str


class _Plan:
    """The writes of one request, in order, and the row states they leave."""

    def __init__(
        self,
        schema: TableSchema,
        conn: sqlite3.Connection | None = None,
        state: ServerState | None = None,
        *,
        depth: int = 0,
        came_from: str | None = None,
    ) -> None:
        self.schema = schema
        self.conn = conn
        self.state = state
        self.depth = depth  # 0 for the request's own rows, 1 for nested rows, and so on
        self.came_from = came_from  # the table whose nested row this plan writes
        self.codec: RowCodec = schema.codec
        self.now = REQUEST_TIME.get() or now_iso()
        self.writes: list[_Write] = []
        self.current: dict[str, State] = {}
        self.inserts = 0
        self.relations = schema.relations
        names = self.codec.row_names[1:]
        self.position = self.codec.position
        self.insert_sql = (
            f"INSERT INTO {schema.ref.sql} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )

    def take_links(
        self, user: dict[str, Any], permissions: list[str], row_id: str | None = None
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """User values without relationship keys, and the related ids those keys give (nested
        rows written first), as utopia's create/updateDocumentRelationships take them:

        - a nested row two levels down keeps only its relationships back to the table it was
          written from (the relationshipWriteStack);
        - ids of rows the related table does not hold are dropped, not refused — except on
          create, where a one-valued side (oneToOne, the child of oneToMany, the parent of
          manyToOne) keeps the id it is given as utopia stores it (relateDocumentsById returns
          early but leaves the attribute): a select reads it as an empty row (`[]`), filters
          by id match it, and the row it names is linked once it is created; an update to a
          missing id clears the link (utopia sets the key to null);
        - null on a "many" side changes nothing, except on the side of a oneToMany or
          manyToOne that holds the list, where an update (`row_id`) of a row that has links
          is refused.
        """
        relations = self.relations
        if not relations or relations.keys().isdisjoint(user):
            return user, {}

        def nested(column: Mapping[str, Any], item: dict[str, Any]) -> str:
            return self.nested_row(column, item, permissions)

        links: dict[str, list[str]] = {}
        for key, value in user.items():
            column = relations.get(key)
            if column is None:
                continue
            if self.depth >= relationships.MAX_DEPTH - 1 and column["relatedTable"] != (
                self.came_from
            ):
                continue
            if value is None and relationships.many(column):
                if row_id is not None and column["relationType"] != "manyToMany":
                    self.refuse_null(column, row_id)
                continue
            ids = relationships.link_ids(column, value, nested, updating=row_id is not None)
            if row_id is None and not relationships.many(column):
                links[key] = ids  # utopia's createDocument keeps a stored id whose row is missing
            else:
                links[key] = self.existing_related(column, ids)
        return {k: v for k, v in user.items() if k not in relations}, links

    def refuse_null(self, column: Mapping[str, Any], row_id: str) -> None:
        assert self.conn is not None
        if relationships.related_ids(self.conn, column, [row_id])[row_id]:
            raise bad_request(
                "relationship_value_invalid",
                "Invalid relationship value. Must be either an array of documents or document "
                "IDs, NULL given.",
            )

    def existing_related(self, column: Mapping[str, Any], ids: list[str]) -> list[str]:
        if not ids or self.conn is None or self.state is None:
            return ids
        related = self.state.tables.get(self.conn, self.schema.ref.db_id, column["relatedTable"])
        marks = ", ".join("?" for _ in ids)
        found = {
            row[0]
            for row in _tuples(
                self.conn, f"SELECT _uid FROM {related.ref.sql} WHERE _uid IN ({marks})", ids
            )
        }
        return [i for i in ids if i in found]

    def nested_row(
        self, column: Mapping[str, Any], item: dict[str, Any], permissions: list[str]
    ) -> str:
        """Create (with the parent's permissions unless it has its own) or update the related
        row a nested object describes; its link to the parent is written by the parent."""
        assert self.conn is not None and self.state is not None
        conn, state = self.conn, self.state
        related = state.tables.get(conn, self.schema.ref.db_id, column["relatedTable"])
        data = dict(item)
        if column["twoWay"]:
            data.pop(column["twoWayKey"], None)
        row_id = str(data.pop("$id"))
        plan = _Plan(related, conn, state, depth=self.depth + 1, came_from=self.schema.ref.id)
        existing = plan.current.get(row_id) or _load(conn, related, row_id)
        if existing is None:
            data.setdefault("$permissions", permissions)
            done = plan.insert(row_id, data, None)
        else:
            done = plan.update(existing, data, None)
        plan.execute(conn, [done])
        return row_id

    def write_links(
        self, row_id: str, links: Mapping[str, list[str]], *, updating: bool = False
    ) -> None:
        for key, ids in links.items():
            column = self.relations[key]
            if column["relationType"] == "oneToOne" and self.conn is not None:
                self.refuse_taken(column, row_id, ids, updating)
            for sql, params in relationships.link_statements(column, row_id, ids):
                self.writes.append(_Write(sql, params, row_id))

    def refuse_taken(
        self, column: Mapping[str, Any], row_id: str, ids: Sequence[str], updating: bool
    ) -> None:
        """oneToOne keeps a unique index on each side's key: a related row linked from another
        row refuses the write (utopia's UniqueException; an update of a two-way one first
        says "Document already has a related document", a DuplicateException)."""
        assert self.conn is not None
        if not relationships.taken(self.conn, column, row_id, ids):
            return
        if updating and column["twoWay"] and column["side"] == "parent":
            raise appwrite_error("row_already_exists", row_id)
        raise appwrite_error("row_unique_constraint_violation")

    def insert(self, row_id: str, data: Mapping[str, Any], permissions: list[str] | None) -> State:
        user, system = _split_system(data)
        row_id = _row_id(system.get("$id", row_id))
        if permissions is None:
            permissions = check_permissions(system.get("$permissions", []), "$permissions")
        user, links = self.take_links(user, permissions)
        values = self.codec.full(user)
        dates = _dates(system)
        state: State = [
            None,
            row_id,
            dates.get("_createdAt", self.now),
            dates.get("_updatedAt", self.now),
            _permissions_json(permissions),
            *values,
        ]
        self.writes.append(_Write(self.insert_sql, state[1:], row_id))
        self.inserts += 1
        self.current[row_id] = state
        self.write_links(row_id, links)
        return state

    def update(
        self,
        existing: State,
        data: Mapping[str, Any],
        permissions: list[str] | None,
        *,
        whole_row: bool = True,
        partial: bool = True,
    ) -> State:
        """Write `data` over `existing`. `whole_row` validates the merged row as utopia's
        updateDocument does; bulk updates (`updateDocuments`) check only the given values."""
        user, system = _split_system(data)
        if permissions is None and "$permissions" in system:
            permissions = check_permissions(system["$permissions"], "$permissions")
        current = permissions if permissions is not None else json.loads(existing[4] or "[]")
        user, links = self.take_links(user, current, existing[1])
        user = self.resolve(user, existing)
        if partial:
            values = self.codec.partial(user)
        else:
            values = dict(zip(self.codec.keys, self.codec.full(user), strict=True))
        state = self.assign(existing, values, system, permissions, whole_row=whole_row)
        self.write_links(existing[1], links, updating=True)
        return state

    def resolve(self, user: Mapping[str, Any], existing: State | None) -> dict[str, Any]:
        """User values with any update operator applied to the row's current values."""
        if not operators.has_operators(user):
            return dict(user)
        position = self.position

        def current(key: str) -> Any:
            if existing is None:
                return None
            return self.codec.decode(key, existing[position[key]])

        return operators.resolve(self.codec.by_key, user, current)

    def assign(
        self,
        existing: State,
        values: Mapping[str, Any],
        system: Mapping[str, Any],
        permissions: list[str] | None,
        *,
        whole_row: bool,
    ) -> State:
        """Plan setting already validated stored `values` (and dates, permissions) on a row."""
        position = self.position
        for column in self.codec.columns if whole_row else ():
            key = column["key"]
            if column["required"] and key not in values and existing[position[key]] is None:
                raise structure_error(f'Missing required attribute "{key}"')
        record: dict[str, Any] = {"_updatedAt": self.now, **_dates(system), **values}
        if permissions is not None:
            record["_permissions"] = _permissions_json(permissions)
        assignments = ", ".join(f"{quote(k)} = ?" for k in record)
        row_id = existing[1]
        self.writes.append(
            _Write(
                f"UPDATE {self.schema.ref.sql} SET {assignments} WHERE _uid = ?",
                [*record.values(), row_id],
                row_id,
            )
        )
        state = list(existing)
        for key, value in record.items():
            state[position[key]] = value
        self.current[row_id] = state
        return state

    def upsert(
        self,
        existing: State | None,
        row_id: str,
        data: Mapping[str, Any],
        permissions: list[str] | None,
    ) -> State:
        """Like utopia's upsertDocuments: an existing row keeps only its optional columns'
        values where none are given; required columns must be given again."""
        existing = self.current.get(row_id, existing)
        if existing is None:
            return self.insert(row_id, self.resolve(data, None), permissions)
        user, system = _split_system(data)
        merged = {
            c["key"]: self.codec.decode(c["key"], existing[self.position[c["key"]]])
            for c in self.codec.columns
            if not c["required"]
        }
        merged.update(user)
        merged.update(system)
        merged.pop("$id", None)
        return self.update(existing, merged, permissions, partial=False)

    def execute(self, conn: sqlite3.Connection, states: Sequence[State]) -> None:
        """Run the writes (runs of one statement as one executemany), then give inserted rows
        their `_seq` (AUTOINCREMENT: above every `_seq` the table had)."""
        table = self.schema.ref.sql
        if self.inserts:
            before = conn.execute(f"SELECT COALESCE(MAX(_seq), 0) FROM {table}").fetchone()[0]
        for sql, run in itertools.groupby(self.writes, key=lambda write: write.sql):
            _execute_run(conn, sql, list(run))
        if self.inserts:
            seqs = dict(_tuples(conn, f"SELECT _uid, _seq FROM {table} WHERE _seq > ?", (before,)))
            for state in states:
                if state[0] is None:
                    state[0] = seqs[state[1]]


def _execute_run(conn: sqlite3.Connection, sql: str, run: list[_Write]) -> None:
    """One executemany; if it breaks a constraint, replay it row by row to name the row."""
    conn.execute("SAVEPOINT wb_run")
    try:
        conn.executemany(sql, [write.params for write in run])
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO wb_run")
        for write in run:
            try:
                conn.execute(sql, write.params)
            except sqlite3.IntegrityError as exc:
                raise _integrity(exc, write.row_id) from None
        raise
    finally:
        if conn.in_transaction:
            conn.execute("RELEASE wb_run")


# --- routes' operations -----------------------------------------------------------------------


def _select_values(queries: Sequence[Query]) -> list[str] | None:
    selected: list[str] | None = None
    for query in queries:
        if query.method == "select":
            selected = (selected or []) + [str(v) for v in query.values]
    return selected


def _project(body: dict[str, Any], selected: Sequence[str] | None) -> dict[str, Any]:
    if selected is None or "*" in selected:
        return body
    keep = set(selected)
    return {k: v for k, v in body.items() if k.startswith("$") or k in keep}


@dataclass
class _RelationSelect:
    """A select list split as utopia's processRelationshipQueries splits it: the table's own
    values, and per relationship the select values its related rows are read with."""

    own: list[str]
    nested: dict[str, list[str]]


def _split_select(values: Sequence[str], relations: Mapping[str, Any]) -> _RelationSelect:
    """`author.*` loads `author` with `*`; `author.company.*` loads it with `company.*`.

    A dotted value through a one-valued side keeps that side's key in the own select (only
    it, not the other fields); through a "many" side it is dropped, and a select left empty
    reads every field (`*`). A bare relationship key is refused by utopia's
    validateSelections ("Cannot select attributes")."""
    own: list[str] = []
    nested: dict[str, list[str]] = {}
    dotted = False
    for value in values:
        head, dot, rest = value.partition(".")
        if head not in relations:
            own.append(value)
            continue
        if not dot:
            raise query_invalid(f"Cannot select attributes: {head}")
        dotted = True
        nested.setdefault(head, []).append(rest or "*")
        if not relationships.many(relations[head]):
            own.append(head)
    plain = [v for v in own if v not in relations]
    if dotted and not plain and all(relationships.many(relations[k]) for k in nested):
        plain = ["*"]
    return _RelationSelect(plain, nested)


def _attach(
    conn: sqlite3.Connection,
    state: ServerState,
    schema: TableSchema,
    bodies: list[dict[str, Any]],
    nested: Mapping[str, list[str]],
    depth: int = 0,
    skip: str | None = None,
) -> None:
    """Put each selected relationship's related rows into the bodies, breadth first, as far
    as utopia's RELATION_MAX_DEPTH: rows of the third level keep no relationships, and the
    way back of a two-way relationship is never loaded again."""
    ids = [body["$id"] for body in bodies]
    for key, values in nested.items():
        if key == skip:
            continue
        if depth + 1 >= relationships.MAX_DEPTH:
            for body in bodies:
                body.pop(key, None)
            continue
        column = schema.relations[key]
        related = state.tables.get(conn, schema.ref.db_id, column["relatedTable"])
        links = relationships.related_ids(conn, column, ids)
        loaded = _load_many(conn, related, [i for found in links.values() for i in found])
        split = _split_select(values, related.relations)
        for value in split.own:
            if value != "*" and value[:1] != "$" and value not in related.codec.by_key:
                raise query_invalid(f"Invalid query: Attribute not found in schema: {value}")
        build = related.codec.builder(related.codec.row_names)
        made = {i: _project(build(row), split.own) for i, row in loaded.items()}
        back = column["twoWayKey"] if column["twoWay"] else None
        deeper = {k: v for k, v in split.nested.items() if k != back}
        if deeper and made:
            _attach(conn, state, related, list(made.values()), deeper, depth + 1, back)
        for body in bodies:
            rows = [made[i] for i in links[body["$id"]] if i in made]
            if relationships.many(column):
                body[key] = rows
            else:  # a stored id whose row is missing: utopia's empty Document, `[]` in JSON
                body[key] = rows[0] if rows else ([] if links[body["$id"]] else None)


def _load_request(
    queries: list[Query], relations: Mapping[str, Any]
) -> tuple[list[Query], dict[str, list[str]]]:
    """Queries with select values as the table's own columns see them, and the relationships
    to load (with their select values)."""
    values = _select_values(queries)
    if values is None or not relations:
        return queries, {}
    split = _split_select(values, relations)
    if not split.nested:
        return queries, {}
    kept = [q for q in queries if q.method != "select"]
    return [*kept, Query("select", "", tuple(split.own or ["$id"]))], split.nested


def list_rows(
    state: ServerState,
    database_id: str,
    table_id: str,
    raw_queries: Sequence[str],
    with_total: bool = True,
) -> dict[str, Any]:
    queries = parse_queries(raw_queries)
    with state.store.read() as conn:
        schema = state.tables.get(conn, database_id, table_id)
        queries, wanted = _load_request(queries, schema.relations)

        def load_cursor_row(row_id: str) -> Mapping[str, object] | None:
            row = _load(conn, schema, row_id)
            if row is None:
                return None
            values: dict[str, object] = dict(zip(schema.codec.row_names, row, strict=True))
            for key, column in schema.relations.items():  # an order on a relationship
                linked = relationships.related_ids(conn, column, [row_id])[row_id]
                values[key] = linked[0] if linked else None
            return values

        plan = build_list_sql(
            schema.ref.sql,
            schema.specs,
            queries,
            load_cursor_row=load_cursor_row,
            fulltext=schema.fulltext,
            relations=relationships.query_specs(schema.relations),
            resolve=_resolver(conn, state, database_id),
        )
        rows = _tuples(conn, plan.sql, plan.params)
        if plan.reverse:
            rows.reverse()
        total = conn.execute(plan.count_sql, plan.count_params).fetchone()[0] if with_total else 0
        build = schema.codec.builder(plan.columns)
        bodies = [build(r) for r in rows]
        if wanted:
            _attach(conn, state, schema, bodies, wanted)
    return {"total": total, "rows": bodies}


def get_row(
    state: ServerState, database_id: str, table_id: str, row_id: str, raw_queries: Sequence[str]
) -> dict[str, Any]:
    queries = parse_queries(raw_queries)
    with state.store.read() as conn:
        schema = state.tables.get(conn, database_id, table_id)
        queries, wanted = _load_request(queries, schema.relations)
        # utopia's getDocument validates its selects (Select validator) before reading
        build_where(schema.specs, [q for q in queries if q.method == "select"])
        row = _load(conn, schema, row_id)
        if row is None:
            raise row_not_found(row_id)
        body = _project(_bodies(schema, [row])[0], _select_values(queries))
        if wanted:
            _attach(conn, state, schema, [body], wanted)
    return body


def refuse_bulk(schema: TableSchema, what: str) -> None:
    """Appwrite refuses bulk writes on tables with relationship columns (its words: create
    says "columns", the Bulk/* actions "attributes")."""
    if schema.relations:
        noun = "columns" if what == "create" else "attributes"
        raise bad_request(
            "general_bad_request",
            f"Bulk {what} is not supported for tablesDB with relationship {noun}",
        )


def refuse_bulk_staging(state: ServerState, database_id: str, table_id: str, what: str) -> None:
    """A bulk write with a transactionId meets the same refusal before it is staged."""
    with state.store.read() as conn:
        refuse_bulk(state.tables.get(conn, database_id, table_id), what)


def check_batch(rows: object) -> list[Mapping[str, Any]]:
    if not isinstance(rows, list) or len(rows) > BATCH_LIMIT:
        raise invalid_argument(
            "rows", f"Value must a valid array no longer than {BATCH_LIMIT} items"
        )
    for item in rows:
        if not isinstance(item, dict):
            raise invalid_argument("rows", "Value must be a valid array of JSON objects")
    return rows


Planner = Callable[[sqlite3.Connection, "_Plan"], list[State]]


def _write(
    state: ServerState,
    database_id: str,
    table_id: str,
    planner: Planner,
    answer: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """One write request: plan its rows, run the plan, commit; then answer how many rows it
    wrote and (the first `answer` of) those rows."""
    with state.store.write() as conn:
        plan = _Plan(state.tables.get(conn, database_id, table_id), conn, state)
        done = planner(conn, plan)
        plan.execute(conn, done)
    return len(done), _bodies(plan.schema, done[:answer])


def _one(written: tuple[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return written[1][0]


def _many(written: tuple[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {"total": written[0], "rows": written[1]}


def create_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    return _one(
        _write(
            state,
            database_id,
            table_id,
            lambda conn, plan: [plan.insert(row_id, data, permissions)],
        )
    )


def create_rows(
    state: ServerState, database_id: str, table_id: str, rows: object
) -> dict[str, Any]:
    batch = check_batch(rows)
    return _many(
        _write(
            state,
            database_id,
            table_id,
            lambda conn, plan: (
                refuse_bulk(plan.schema, "create")
                or [plan.insert("unique()", item, None) for item in batch]
            ),
        )
    )


def upsert_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    def planner(conn: sqlite3.Connection, plan: _Plan) -> list[State]:
        return [plan.upsert(_load(conn, plan.schema, row_id), row_id, data, permissions)]

    return _one(_write(state, database_id, table_id, planner))


def upsert_rows(
    state: ServerState, database_id: str, table_id: str, rows: object
) -> dict[str, Any]:
    batch = check_batch(rows)

    def planner(conn: sqlite3.Connection, plan: _Plan) -> list[State]:
        refuse_bulk(plan.schema, "upsert")
        given = [item.get("$id") for item in batch]
        existing = _load_many(conn, plan.schema, [i for i in given if is_key(i)])
        done = []
        for item in batch:
            row_id = _row_id(item.get("$id"))
            done.append(plan.upsert(existing.get(row_id), row_id, item, None))
        return done

    return _many(_write(state, database_id, table_id, planner))


def _existing(conn: sqlite3.Connection, plan: _Plan, row_id: str) -> State:
    existing = _load(conn, plan.schema, row_id)
    if existing is None:
        raise row_not_found(row_id)
    return existing


def update_row(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    data: Mapping[str, Any],
    permissions: list[str] | None,
) -> dict[str, Any]:
    if not data and permissions is None:
        raise appwrite_error("row_missing_payload")
    payload = {k: v for k, v in data.items() if k != "$id"}
    return _one(
        _write(
            state,
            database_id,
            table_id,
            lambda conn, plan: [plan.update(_existing(conn, plan, row_id), payload, permissions)],
        )
    )


def matching(
    conn: sqlite3.Connection, schema: TableSchema, raw_queries: Sequence[str]
) -> list[State]:
    queries = parse_queries(raw_queries)
    where, params = build_where(
        schema.specs, queries, table_sql=schema.ref.sql, fulltext=schema.fulltext
    )
    limit = next((q.values[0] for q in queries if q.method == "limit" and q.values), -1)
    offset = next((q.values[0] for q in queries if q.method == "offset" and q.values), 0)
    found = _tuples(
        conn,
        _select(schema) + f" WHERE {where} ORDER BY _seq LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [list(row) for row in found]


def update_rows(
    state: ServerState,
    database_id: str,
    table_id: str,
    data: Mapping[str, Any],
    raw_queries: Sequence[str],
) -> dict[str, Any]:
    """Bulk update by query; like Appwrite, answers the full count but at most 100 rows."""
    payload = {k: v for k, v in data.items() if k != "$id"}
    if not payload:
        raise appwrite_error("row_missing_payload")

    def planner(conn: sqlite3.Connection, plan: _Plan) -> list[State]:
        refuse_bulk(plan.schema, "update")
        targets = matching(conn, plan.schema, raw_queries)
        if not targets:
            return []
        user, system = _split_system(payload)
        permissions = (
            check_permissions(system["$permissions"], "$permissions")
            if "$permissions" in system
            else None
        )
        if operators.has_operators(user):
            return [
                plan.assign(
                    row,
                    plan.codec.partial(plan.resolve(user, row)),
                    system,
                    permissions,
                    whole_row=False,
                )
                for row in targets
            ]
        values = plan.codec.partial(user)
        return [plan.assign(row, values, system, permissions, whole_row=False) for row in targets]

    return _many(_write(state, database_id, table_id, planner, answer=BATCH_LIMIT))


def _delete(
    conn: sqlite3.Connection,
    state: ServerState,
    ref: TableRef,
    row_ids: Sequence[str],
    visited: set[tuple[int, str]],
) -> None:
    """Delete rows after applying each relationship's onDelete (restrict, cascade, setNull)."""
    if not row_ids:
        return

    def delete_related(related: TableRef, ids: Sequence[str], seen: set[tuple[int, str]]) -> None:
        _delete(conn, state, related, ids, seen)

    relationships.on_delete(conn, ref, row_ids, delete_related, visited)
    conn.executemany(f"DELETE FROM {ref.sql} WHERE _uid = ?", [(i,) for i in row_ids])


def delete_row(state: ServerState, database_id: str, table_id: str, row_id: str) -> None:
    with state.store.write() as conn:
        ref = state.tables.get(conn, database_id, table_id).ref
        if conn.execute(f"SELECT 1 FROM {ref.sql} WHERE _uid = ?", (row_id,)).fetchone() is None:
            raise row_not_found(row_id)
        _delete(conn, state, ref, [row_id], {(ref.seq, row_id)})


def delete_rows(
    state: ServerState, database_id: str, table_id: str, raw_queries: Sequence[str]
) -> dict[str, Any]:
    with state.store.write() as conn:
        schema = state.tables.get(conn, database_id, table_id)
        refuse_bulk(schema, "delete")
        targets = matching(conn, schema, raw_queries)
        ids = [row[1] for row in targets]
        _delete(conn, state, schema.ref, ids, {(schema.ref.seq, i) for i in ids})
    return {"total": len(targets), "rows": _bodies(schema, targets[:BATCH_LIMIT])}


def increment(
    state: ServerState,
    database_id: str,
    table_id: str,
    row_id: str,
    key: str,
    value: float,
    bound: float | None,
) -> dict[str, Any]:
    """Add `value` (negative to decrement) to a numeric column, refusing to cross `bound`.

    Errors follow Appwrite's Increment/Decrement actions: an unknown row or column is
    `row_not_found` (utopia's NotFoundException), a non-number column `column_type_invalid`,
    crossing the bound `column_limit_exceeded`.
    """

    def planner(conn: sqlite3.Connection, plan: _Plan) -> list[State]:
        existing = _load(conn, plan.schema, row_id)
        column = next((c for c in plan.codec.columns if c["key"] == key), None)
        if existing is None or column is None:
            raise row_not_found(row_id)
        if column["type"] not in ("integer", "bigint", "double") or column.get("array"):
            raise bad_request("column_type_invalid", f'Column "{key}" is not a number')
        result = (existing[plan.position[key]] or 0) + value
        if column["type"] != "double":
            result = int(result)
        if bound is not None and (result > bound if value >= 0 else result < bound):
            edge = "maximum" if value >= 0 else "minimum"
            bound_text = int(bound) if float(bound).is_integer() else bound
            raise bad_request(
                "column_limit_exceeded",
                f'Column "{key}" has reached the {edge} value of {bound_text}',
            )
        return [plan.update(existing, {key: result}, None, whole_row=False)]

    return _one(_write(state, database_id, table_id, planner))
