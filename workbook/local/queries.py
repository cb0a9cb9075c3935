"""Appwrite row queries compiled to SQLite, with Appwrite 1.9.6's validation and paging rules.

The rows routes hand over the raw `queries[]` strings the SDK sent. This module
checks them the way Appwrite 1.9.6 and utopia-php/database 7.2.6 do (same checks,
same order, same messages), then compiles filters, orders, cursor and paging into
parameterised SQL over the physical layout of one Appwrite table (DESIGN.md,
`workbook.local`). Values are always bound; only quoted identifiers enter SQL text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from workbook.local import geometry
from workbook.local.errors import bad_request, invalid_argument, query_invalid
from workbook.local.params import parse_datetime

MAX_QUERIES = 100
MAX_QUERY_LENGTH = 4096
MAX_VALUES = 500
DEFAULT_LIMIT = 25
COUNT_CAP = 5000
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
MAX_DOUBLE = 1.7976931348623157e308
MAX_NESTING = 40  # and/or levels; deeper SQL overflows SQLite's parser stack


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


STRING_TYPES = _names("string varchar text mediumtext longtext email url ip enum")
SPATIAL_TYPES = _names("point linestring polygon")

FILTER_METHODS = _names(
    "equal notEqual lessThan lessThanEqual greaterThan greaterThanEqual between notBetween "
    "isNull isNotNull startsWith notStartsWith endsWith notEndsWith contains containsAny "
    "containsAll notContains search notSearch and or"
)
# Methods utopia-php/database 7.2.6 parses but this server does not evaluate:
# they fail with a clear 400 rather than a wrong answer.
UNSUPPORTED_METHODS = _names("exists notExists elemMatch vectorDot vectorCosine vectorEuclidean")
# Spatial-only methods (utopia's Query::isSpatialQuery); with equal/notEqual/contains/
# notContains on a spatial column they are the MariaDB adapter's ST_* predicates, evaluated by
# `wb_spatial` (geometry.spatial_test) registered on the store's connection.
SPATIAL_METHODS = _names(
    "crosses notCrosses intersects notIntersects overlaps notOverlaps touches notTouches"
)
SPATIAL_COLUMN_METHODS = SPATIAL_METHODS | {"equal", "notEqual", "contains", "notContains"}
# Distance queries on spatial columns: `wb_distance` is registered on the store's connection.
DISTANCE_METHODS = {
    "distanceEqual": "=",
    "distanceNotEqual": "!=",
    "distanceGreaterThan": ">",
    "distanceLessThan": "<",
}
SPATIAL_KINDS = ("point", "linestring", "polygon")
PAGING_METHODS = _names(
    "select orderAsc orderDesc orderRandom limit offset cursorAfter cursorBefore"
)
KNOWN_METHODS = (
    FILTER_METHODS | UNSUPPORTED_METHODS | SPATIAL_METHODS | PAGING_METHODS | set(DISTANCE_METHODS)
)
LOGICAL_METHODS = _names("and or elemMatch")
ONE_VALUE_METHODS = _names(
    "notEqual lessThan lessThanEqual greaterThan greaterThanEqual search notSearch "
    "startsWith notStartsWith endsWith notEndsWith"
)
SOME_VALUES_METHODS = _names("equal contains containsAny containsAll notContains")
CONTAINS_METHODS = SOME_VALUES_METHODS - {"equal"}
ARRAY_METHODS = CONTAINS_METHODS | {"isNull", "isNotNull"}
COMPARISONS = {
    "notEqual": "!=",
    "lessThan": "<",
    "lessThanEqual": "<=",
    "greaterThan": ">",
    "greaterThanEqual": ">=",
}
UID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
QUERIES_PARAM = (
    f"Value must a valid array no longer than {MAX_QUERIES} items and Value must be a valid "
    f"string and at least 1 chars and no longer than {MAX_QUERY_LENGTH} chars"
)


@dataclass(frozen=True)
class ColumnSpec:
    """What the compiler needs to know of one user column."""

    key: str
    type: str
    array: bool = False
    format: str | None = None
    encrypt: bool = False


@dataclass(frozen=True)
class Query:
    """One parsed Appwrite query; `values` holds nested `Query`s for `and`/`or`."""

    method: str
    attribute: str = ""
    values: tuple[object, ...] = ()


@dataclass
class ListSQL:
    """Everything a list route needs to fetch one page and its total.

    `columns` are the SQL column names `sql` selects, in order; `select` the user
    keys asked by `select()` (None = all); `limit` -1 means none.
    """

    sql: str
    params: list[object]
    count_sql: str
    count_params: list[object]
    reverse: bool
    select: list[str] | None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RelationSpec:
    """A relationship column as filters see it: its junction table (quoted), which end of each
    link is this table's (`mine`) and which the related row's (`other`), and the related table.

    `virtual` sides hold many related rows (utopia keeps no value for them in the row), so
    utopia refuses filters on them: "Cannot query on virtual relationship attribute".
    """

    key: str
    junction: str
    mine: str
    other: str
    virtual: bool
    related: str


@dataclass(frozen=True)
class TableScope:
    """What filters need of a related table, for `author.name` queries."""

    sql: str
    columns: Mapping[str, ColumnSpec]
    relations: Mapping[str, RelationSpec]
    fulltext: Collection[str]


Resolver = Callable[[str], TableScope]  # related table id -> its scope


@dataclass(frozen=True)
class _Column:
    sql: str
    spec: ColumnSpec
    expr: str | None = None  # an SQL expression in place of the column (relationships)


SYSTEM_COLUMNS: dict[str, _Column] = {
    "$id": _Column("_uid", ColumnSpec("$id", "string")),
    "$sequence": _Column("_seq", ColumnSpec("$sequence", "id")),
    "$createdAt": _Column("_createdAt", ColumnSpec("$createdAt", "datetime")),
    "$updatedAt": _Column("_updatedAt", ColumnSpec("$updatedAt", "datetime")),
}
SYSTEM_SQL = ["_seq", "_uid", "_createdAt", "_updatedAt", "_permissions"]
INTERNAL_SELECTABLE = _names("$id $sequence $createdAt $updatedAt $permissions $collection $tenant")


def quote_ident(name: str) -> str:
    """SQLite identifier quoting: the only way a column key enters SQL text."""
    return '"' + name.replace('"', '""') + '"'


def _php_type(value: object) -> str:
    """PHP's gettype() name, which utopia's parse messages quote."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    return "string" if isinstance(value, str) else "array"


def parse_queries(raw: Sequence[object]) -> list[Query]:
    """Parse the SDK's query strings, refusing what Appwrite refuses before reading data.

    The count/length limits are the route's parameter validator on Appwrite, so they
    answer `general_argument_invalid`; malformed queries answer `general_query_invalid`.
    """
    if len(raw) > MAX_QUERIES or any(
        not isinstance(text, str) or not 0 < len(text) <= MAX_QUERY_LENGTH for text in raw
    ):
        raise invalid_argument("queries", QUERIES_PARAM)
    parsed: list[Query] = []
    for text in map(str, raw):
        try:
            data = json.loads(text)
        except ValueError:
            raise query_invalid("Invalid query: Syntax error") from None
        if not isinstance(data, dict):
            raise query_invalid(f"Invalid query. Must be an array, got {_php_type(data)}")
        parsed.append(_parse_one(data))
    return parsed


def _parse_one(data: dict[str, object]) -> Query:
    method = data.get("method")
    method = "" if method is None else method
    attribute = data.get("attribute")
    attribute = "" if attribute is None else attribute
    values = data.get("values")
    values = [] if values is None else values
    if not isinstance(method, str):
        raise query_invalid(f"Invalid query method. Must be a string, got {_php_type(method)}")
    if method not in KNOWN_METHODS:
        raise query_invalid(f"Invalid query method: {method}")
    if not isinstance(attribute, str):
        raise query_invalid(
            f"Invalid query attribute. Must be a string, got {_php_type(attribute)}"
        )
    if not isinstance(values, list):
        raise query_invalid(f"Invalid query values. Must be an array, got {_php_type(values)}")
    if method in LOGICAL_METHODS:
        nested: list[object] = []
        for item in values:
            if not isinstance(item, dict):
                raise query_invalid("Invalid query: Syntax error")
            nested.append(_parse_one(item))
        return Query(method, attribute, tuple(nested))
    return Query(method, attribute, tuple(values))


def normalize_datetime(value: object) -> str | None:
    """Appwrite's stored datetime form (UTC, milliseconds), or None if `value` is not one."""
    return parse_datetime(value)


def _coerce(column: _Column, value: object) -> object:
    """Check one filter value against the column type; return it in stored form."""
    kind = column.spec.type
    bound: object | None = None
    if kind in STRING_TYPES:
        bound = value if isinstance(value, str) else None
    elif kind == "relationship":  # utopia: Text(255), "the query is always on uid"
        bound = value if isinstance(value, str) and len(value) <= 255 else None
    elif kind in ("integer", "bigint"):
        if isinstance(value, int) and not isinstance(value, bool) and MIN_INT <= value <= MAX_INT:
            bound = value
    elif kind in ("double", "float"):
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            bound = float(value) if abs(value) <= MAX_DOUBLE else None
    elif kind == "boolean":
        bound = int(value) if isinstance(value, bool) else None
    elif kind == "datetime":
        bound = normalize_datetime(value)
    elif kind == "id":
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_INT:
            bound = value
    elif kind in SPATIAL_TYPES:
        raise query_invalid(
            f'Invalid query: Spatial queries on attribute "{column.spec.key}" are not '
            "supported by the local server"
        )
    if bound is None:
        raise query_invalid(
            f'Invalid query: Query value is invalid for attribute "{column.spec.key}"'
        )
    return bound


@dataclass
class _Paging:
    orders: list[tuple[str, str]] = field(default_factory=list)  # (attribute, ASC|DESC|RANDOM)
    limit: int | None = None
    offset: int | None = None
    select: list[str] | None = None
    select_all: bool = False


class _Compiler:
    """Validates and compiles the queries of one table, in Appwrite's order of checks."""

    def __init__(
        self,
        columns: Mapping[str, ColumnSpec],
        table_sql: str | None,
        fulltext: Collection[str],
        relations: Mapping[str, RelationSpec] | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.columns = columns
        self.table_sql = table_sql
        self.fulltext = frozenset(fulltext)
        self.relations = relations or {}
        self.resolve = resolve
        self.searched: list[str] = []
        self.depth = 0

    def column(self, attribute: str) -> _Column:
        if attribute in SYSTEM_COLUMNS:
            return SYSTEM_COLUMNS[attribute]
        relation = self.relations.get(attribute)
        if relation is not None:
            # The related id a one-valued side holds (utopia stores it in the row).
            expr = (
                f"(SELECT wb_j.{relation.other} FROM {relation.junction} AS wb_j "
                f"WHERE wb_j.{relation.mine} = {self._uid()} LIMIT 1)"
            )
            return _Column(attribute, ColumnSpec(attribute, "relationship"), expr)
        spec = self.columns.get(attribute)
        if spec is None:
            raise query_invalid(f"Invalid query: Attribute not found in schema: {attribute}")
        return _Column(attribute, spec)

    def _uid(self) -> str:
        return f"{self.table_sql}._uid" if self.table_sql else "_uid"

    def ref(self, column: _Column) -> str:
        if column.expr is not None:
            return column.expr
        name = quote_ident(column.sql)
        return f"{self.table_sql}.{name}" if self.table_sql else name

    def _nested_head(self, query: Query) -> str | None:
        """The relationship a dotted filter (`author.name`) goes through, if any."""
        head = query.attribute.split(".", 1)[0]
        if (
            "." in query.attribute
            and head in self.relations
            and query.method
            not in (
                "and",
                "or",
            )
        ):
            return head
        return None

    def compile(self, queries: Sequence[Query]) -> tuple[list[str], list[object], _Paging]:
        """Validate every query in order; return filter conditions, their params, paging.

        Dotted filters through one relationship are grouped, as utopia's
        convertRelationshipQueries does: one related row must match all of them."""
        conditions: list[str] = []
        params: list[object] = []
        paging = _Paging()
        grouped: dict[str, list[Query]] = {}
        for query in queries:
            head = self._nested_head(query) if query.method not in PAGING_METHODS else None
            if head is not None:
                grouped.setdefault(head, []).append(query)
        done: set[str] = set()
        for query in queries:
            head = self._nested_head(query) if query.method not in PAGING_METHODS else None
            if query.method in PAGING_METHODS:
                self.paging(query, paging)
            elif head is not None:
                if head not in done:
                    done.add(head)
                    conditions.append(self.related(head, grouped[head], params))
            else:
                conditions.append(self.filter(query, params))
        for attribute in self.searched:
            if attribute not in self.fulltext:
                raise query_invalid(
                    f'Searching by attribute "{attribute}" requires a fulltext index.'
                )
        return conditions, params, paging

    def related(self, head: str, queries: Sequence[Query], params: list[object]) -> str:
        """Rows whose related rows through `head` match every one of `queries` (dotted)."""
        relation = self.relations[head]
        if self.resolve is None:
            raise query_invalid(f"Invalid query: Attribute not found in schema: {head}")
        scope = self.resolve(relation.related)
        nested = _Compiler(scope.columns, scope.sql, scope.fulltext, scope.relations, self.resolve)
        inner = [Query(q.method, q.attribute.split(".", 1)[1], q.values) for q in queries]
        conditions, inner_params, _ = nested.compile(inner)
        params.extend(inner_params)
        return (
            f"{self._uid()} IN (SELECT wb_j.{relation.mine} FROM {relation.junction} AS wb_j "
            f"WHERE wb_j.{relation.other} IN (SELECT {scope.sql}._uid FROM {scope.sql} "
            f"WHERE {' AND '.join(conditions) or '1'}))"
        )

    def filter(self, query: Query, params: list[object]) -> str:
        method = query.method
        if method in ("and", "or"):
            return self.logical(query, params)
        if self._nested_head(query) is not None:
            return self.related(query.attribute.split(".", 1)[0], [query], params)
        if method in UNSUPPORTED_METHODS:
            raise query_invalid(
                f"Invalid query: Query method {method} is not supported by the local server"
            )
        if method in DISTANCE_METHODS:
            return self.distance(query, params)
        if method in SPATIAL_METHODS or (
            method in SPATIAL_COLUMN_METHODS
            and query.attribute in self.columns
            and self.columns[query.attribute].type in SPATIAL_KINDS
        ):
            return self.spatial(query, params)
        values = list(query.values)
        name = _ucfirst(method)
        if method in SOME_VALUES_METHODS and not values:
            raise query_invalid(f"Invalid query: {name} queries require at least one value.")
        if method in ONE_VALUE_METHODS and len(values) != 1:
            raise query_invalid(f"Invalid query: {name} queries require exactly one value.")
        if method in ("between", "notBetween") and len(values) != 2:
            raise query_invalid(f"Invalid query: {name} queries require exactly two values.")
        column = self.column(query.attribute)
        if column.spec.encrypt:
            raise query_invalid(
                f"Invalid query: Cannot query encrypted attribute: {query.attribute}"
            )
        if len(values) > MAX_VALUES:
            raise query_invalid(
                "Invalid query: Query on attribute has greater than "
                f"{MAX_VALUES} values: {query.attribute}"
            )
        bound = [_coerce(column, value) for value in values]
        relation = self.relations.get(query.attribute)
        if relation is not None and relation.virtual:
            raise query_invalid("Invalid query: Cannot query on virtual relationship attribute")
        _check_shape(method, column.spec)
        if method in ("search", "notSearch"):
            self.searched.append(query.attribute)
        return self.condition(method, column, bound, params)

    def spatial(self, query: Query, params: list[object]) -> str:
        """A geometry predicate (intersects, crosses, overlaps, touches, equal, contains and
        their negations) between a spatial column and one geometry value."""
        column = self.column(query.attribute)
        if column.spec.type not in SPATIAL_KINDS:
            raise query_invalid(
                f'Invalid query: Spatial query "{query.method}" cannot be applied on '
                f"non-spatial attribute: {query.attribute}"
            )
        if not query.values:
            raise query_invalid(
                f"Invalid query: {_ucfirst(query.method)} queries require at least one value."
            )
        if not all(isinstance(value, list) for value in query.values):
            raise query_invalid("Invalid query: Spatial data must be an array")
        if geometry.parse(query.values[0]) is None:
            raise query_invalid(
                f'Invalid query: Query value is invalid for attribute "{query.attribute}"'
            )
        params.extend([query.method, json.dumps(query.values[0])])
        return f"wb_spatial(?, {self.ref(column)}, ?)"

    def distance(self, query: Query, params: list[object]) -> str:
        """`distance…(attr, [lon, lat], distance, meters)` on a spatial column."""
        column = self.column(query.attribute)
        if column.spec.type not in SPATIAL_KINDS:
            raise query_invalid(
                f"Invalid query: Spatial query on non-spatial attribute: {query.attribute}"
            )
        value = query.values[0] if len(query.values) == 1 else None
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise query_invalid("Invalid query: Distance query requires [[lon, lat], distance]")
        point, distance = value[0], value[1]
        meters = bool(value[2]) if len(value) == 3 else False
        numbers = isinstance(point, list) and len(point) == 2
        numbers = numbers and all(isinstance(v, int | float) for v in [*point, distance])
        if not numbers:
            raise query_invalid("Invalid query: Distance query requires [[lon, lat], distance]")
        shape = geometry.parse(point)
        if meters and (column.spec.type != "point" or shape is None or shape.dim != 0):
            raise query_invalid(
                f"Distance in meters is not supported between {column.spec.type} and "
                f"{shape.kind if shape else 'point'}"
            )
        params.extend([json.dumps(point), int(meters), distance])
        return f"wb_distance({self.ref(column)}, ?, ?) {DISTANCE_METHODS[query.method]} ?"

    def logical(self, query: Query, params: list[object]) -> str:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise query_invalid(
                f"Invalid query: Queries nested deeper than {MAX_NESTING} levels are not "
                "supported by the local server"
            )
        parts: list[str] = []
        for item in query.values:
            assert isinstance(item, Query)
            if item.method in PAGING_METHODS:
                self.paging(item, _Paging())
            else:
                parts.append(self.filter(item, params))
        self.depth -= 1
        name = _ucfirst(query.method)
        if len(parts) != len(query.values):
            raise query_invalid(f"Invalid query: {name} queries can only contain filter queries")
        if len(parts) < 2:
            raise query_invalid(f"Invalid query: {name} queries require at least two queries")
        joiner = " AND " if query.method == "and" else " OR "
        return "(" + joiner.join(parts) + ")"

    def condition(
        self, method: str, column: _Column, values: list[object], params: list[object]
    ) -> str:
        ref = self.ref(column)
        if method == "equal":
            params.extend(values)
            if len(values) == 1:
                return f"{ref} = ?"
            return f"{ref} IN ({', '.join('?' for _ in values)})"
        if method in COMPARISONS:
            params.append(values[0])
            return f"{ref} {COMPARISONS[method]} ?"
        if method in ("between", "notBetween"):
            params.extend(values)
            return f"{ref} {'NOT ' if method == 'notBetween' else ''}BETWEEN ? AND ?"
        if method in ("isNull", "isNotNull"):
            return f"{ref} IS {'NOT ' if method == 'isNotNull' else ''}NULL"
        if method in ("startsWith", "notStartsWith"):
            params.extend([values[0], values[0]])
            test = f"substr({ref}, 1, length(?)) = ?"
            return f"NOT ({test})" if method == "notStartsWith" else test
        if method in ("endsWith", "notEndsWith"):
            params.extend([values[0], values[0], values[0]])
            tail = f"substr({ref}, length({ref}) - length(?) + 1)"
            test = f"(length({ref}) >= length(?) AND {tail} = ?)"
            return f"NOT {test}" if method == "notEndsWith" else test
        if method in CONTAINS_METHODS:
            return self.contains(method, column, values, params)
        return _search(method, ref, str(values[0]), params)

    def contains(
        self, method: str, column: _Column, values: list[object], params: list[object]
    ) -> str:
        ref = self.ref(column)
        params.extend(values)
        if column.spec.array:
            member = f"EXISTS (SELECT 1 FROM json_each({ref}) AS je WHERE je.value {{}})"
            if method == "containsAll":
                return "(" + " AND ".join(member.format("= ?") for _ in values) + ")"
            test = member.format("IN (" + ", ".join("?" for _ in values) + ")")
            if method == "notContains":
                return f"({ref} IS NOT NULL AND NOT {test})"
            return test
        # MariaDB's LIKE under the default collation ignores case; so does utopia's
        # own in-memory adapter for contains on strings (ASCII here, as lower()).
        parts = [f"instr(lower({ref}), lower(?)) > 0" for _ in values]
        if method == "notContains":
            return "NOT (" + " OR ".join(parts) + ")"
        return "(" + (" AND " if method == "containsAll" else " OR ").join(parts) + ")"

    def paging(self, query: Query, paging: _Paging) -> None:
        """Validate one non-filter query and record what it asks of the page."""
        method = query.method
        values = list(query.values)
        first = values[0] if values else None
        if method in ("orderAsc", "orderDesc"):
            head = query.attribute.split(".", 1)[0]
            if "." in query.attribute and (head in self.columns or head in self.relations):
                raise query_invalid(f"Invalid query: Cannot order by nested attribute: {head}")
            if "." in query.attribute:
                raise query_invalid(f"Invalid query: Attribute not found in schema: {head}")
            if query.attribute:
                self.column(query.attribute)
                paging.orders.append((query.attribute, "ASC" if method == "orderAsc" else "DESC"))
        elif method == "orderRandom":
            paging.orders.append(("", "RANDOM"))
        elif method in ("limit", "offset"):
            low = 1 if method == "limit" else 0
            number = _whole_number(first, low)
            if number is None:
                raise query_invalid(
                    f"Invalid query: Invalid {method}: Value must be a valid range between "
                    f"{low} and {MAX_INT:,}"
                )
            if method == "limit" and paging.limit is None:
                paging.limit = number
            if method == "offset" and paging.offset is None:
                paging.offset = number
        elif method in ("cursorAfter", "cursorBefore"):
            _check_cursor(first)
        elif method == "select":
            self.select(values, paging)

    def select(self, values: list[object], paging: _Paging) -> None:
        if not values:
            raise query_invalid("Invalid query: No attributes selected")
        keys: list[str] = []
        for key in values:
            if not isinstance(key, str):
                raise query_invalid(
                    f"Invalid query: Attribute selection must be a string, got {_debug_type(key)}"
                )
            keys.append(key)
        if len(set(keys)) != len(keys):
            raise query_invalid("Invalid query: Duplicate attributes selected")
        chosen = paging.select if paging.select is not None else []
        for key in keys:
            if key == "*":
                paging.select_all = True
            elif key in INTERNAL_SELECTABLE:
                continue
            elif key not in self.columns:
                head = key.split(".", 1)[0]  # utopia validates a dotted path's first key
                raise query_invalid(f"Invalid query: Attribute not found in schema: {head}")
            elif key not in chosen:
                chosen.append(key)
        paging.select = chosen


def _check_shape(method: str, spec: ColumnSpec) -> None:
    """utopia's array/contains rules, checked after the values as utopia does."""
    if (
        not spec.array
        and method in CONTAINS_METHODS
        and spec.type not in STRING_TYPES
        and spec.type not in SPATIAL_TYPES
    ):
        verb = "notContains" if method == "notContains" else "contains"
        raise query_invalid(
            f'Invalid query: Cannot query {verb} on attribute "{spec.key}" '
            "because it is not an array, string, or object."
        )
    if spec.array and method not in ARRAY_METHODS:
        raise query_invalid(
            f'Invalid query: Cannot query {method} on attribute "{spec.key}" '
            "because it is an array."
        )


def _search(method: str, ref: str, value: str, params: list[object]) -> str:
    """MariaDB boolean-mode fulltext as Appwrite feeds it, emulated with GLOB on words.

    utopia strips the operator characters and appends `*`, so a row matches when
    any query word is one of its words, the last one as a prefix; a fully quoted
    query matches the phrase. ASCII case is ignored, as MariaDB's fulltext does.
    Words are split at ASCII punctuation and spaces, as MariaDB's parser splits them.
    """
    exact = len(value) >= 2 and value.startswith('"') and value.endswith('"')
    words = [word for word in WORD_SPLIT.split(_ascii_lower(value)) if word]
    text = f"(' ' || lower({ref}) || ' ')"
    if not words:
        condition = "0"
    elif exact:
        params.append(f"*{NON_WORD}{NON_WORD.join(words)}{NON_WORD}*")
        condition = f"{_phrase_text(ref)} GLOB ?"
    else:
        patterns = [f"*{NON_WORD}{word}{NON_WORD}*" for word in words[:-1]]
        patterns.append(f"*{NON_WORD}{words[-1]}*")
        params.extend(patterns)
        condition = "(" + " OR ".join(f"{text} GLOB ?" for _ in patterns) + ")"
    return f"NOT ({condition})" if method == "notSearch" else condition


# ASCII whitespace and punctuation except `_` (a word character for MariaDB's
# fulltext parser); letters outside ASCII stay word characters. The GLOB class
# and the regex are the same set; it holds every GLOB wildcard, so words need no escaping.
NON_WORD = "[]\t\n\r -/:-@[\\^`{-~]"
WORD_SPLIT = re.compile(r"[\s!-/:-@\[-^`{-~]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _phrase_text(ref: str) -> str:
    """The column with the usual punctuation runs (", ", ". ") folded to one space.

    A phrase is a sequence of words whatever separates them; SQLite has no regex,
    and deeply nested replace() overflows its parser, so only the common cases fold.
    """
    expr = f"lower({ref})"
    for char in ",.;:!?":
        expr = f"replace({expr}, '{char}', ' ')"
    for _ in range(2):
        expr = f"replace({expr}, '  ', ' ')"
    return f"(' ' || {expr} || ' ')"


def _ascii_lower(text: str) -> str:
    """Lower case as SQLite's lower() does it (ASCII only), so both sides agree."""
    return text.translate(_ASCII_LOWER)


def _ucfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def _whole_number(value: object, low: int) -> int | None:
    """utopia's Numeric + Range(low, PHP_INT_MAX) check of limit/offset."""
    if isinstance(value, bool):
        return None
    number = value
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    if isinstance(number, int) and low <= number <= MAX_INT:
        return number
    return None


def _check_cursor(value: object) -> str:
    """Appwrite validates the cursor id itself, before any other query."""
    if not isinstance(value, str) or UID_PATTERN.fullmatch(value) is None:
        raise query_invalid(
            "Invalid cursor: UID must contain at most 36 chars. Valid chars are a-z, A-Z, "
            "0-9, and underscore. Can't start with a leading underscore"
        )
    return value


def _debug_type(value: object) -> str:
    """PHP's get_debug_type() name, quoted by utopia's select validator."""
    if value is None:
        return "null"
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float")):
        if isinstance(value, kind):
            return name
    return "array"


EARTH_RADIUS = 6371000.0  # meters, utopia's constant


def spatial_distance(stored: str | None, point_json: str, meters: int) -> float | None:
    """Distance from a stored geometry (its nearest vertex) to a point: meters on the sphere
    (haversine) or, as with `meters=False`, in degrees."""
    if stored is None:
        return None
    geometry = json.loads(stored)
    lon, lat = json.loads(point_json)
    vertices: list[list[float]] = []

    def collect(item: object) -> None:
        if (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int | float) for v in item)
        ):
            vertices.append([float(item[0]), float(item[1])])
        elif isinstance(item, list):
            for child in item:
                collect(child)

    collect(geometry)
    best: float | None = None
    for vlon, vlat in vertices:
        if meters:
            p1, p2 = math.radians(lat), math.radians(vlat)
            dp, dl = p2 - p1, math.radians(vlon - lon)
            h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
            found = 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))
        else:
            found = math.hypot(vlon - lon, vlat - lat)
        best = found if best is None else min(best, found)
    return best


def build_where(
    columns: Mapping[str, ColumnSpec],
    queries: list[Query],
    *,
    table_sql: str | None = None,
    fulltext: Collection[str] = (),
    relations: Mapping[str, RelationSpec] | None = None,
    resolve: Resolver | None = None,
) -> tuple[str, list[object]]:
    """The WHERE condition of the filter queries alone ("1" when there are none).

    For bulk update/delete by query. Every query is still validated. Pass
    `table_sql` so array filters reach the row's column from inside `json_each`
    whatever its key (`value`, `key`, `json`… otherwise clash), and `fulltext`
    (keys with a single-column fulltext index) to allow `search`.
    """
    compiler = _Compiler(columns, table_sql, fulltext, relations, resolve)
    conditions, params, _ = compiler.compile(queries)
    return (" AND ".join(conditions) if conditions else "1"), params


def build_list_sql(
    table_sql: str,
    columns: Mapping[str, ColumnSpec],
    queries: list[Query],
    *,
    load_cursor_row: Callable[[str], Mapping[str, object] | None],
    fulltext: Collection[str] = (),
    default_limit: int | None = DEFAULT_LIMIT,
    relations: Mapping[str, RelationSpec] | None = None,
    resolve: Resolver | None = None,
) -> ListSQL:
    """One page of rows and its capped total, as Appwrite's list rows computes them.

    `load_cursor_row(id)` gives the cursor row's stored values by SQL column name.
    Bulk update/delete pass `default_limit=None`: without a `limit()` query they
    reach every matching row, in the same order and from the same cursor as a list.
    """
    cursor_query = next((q for q in queries if q.method in ("cursorAfter", "cursorBefore")), None)
    cursor_row: Mapping[str, object] | None = None
    if cursor_query is not None:
        cursor_id = _check_cursor(cursor_query.values[0] if cursor_query.values else None)
        cursor_row = load_cursor_row(cursor_id)
        if cursor_row is None:
            raise bad_request(
                "general_cursor_not_found", f"Row '{cursor_id}' for the 'cursor' value not found."
            )

    compiler = _Compiler(columns, table_sql, fulltext, relations, resolve)
    filters, filter_params, paging = compiler.compile(queries)
    orders = _full_order(paging.orders)
    before = cursor_query is not None and cursor_query.method == "cursorBefore"
    where = list(filters)
    params = list(filter_params)
    if cursor_row is not None:
        if any(direction == "RANDOM" for _, direction in orders):
            raise query_invalid(
                "Invalid query: Cursor pagination is not supported with random order"
            )
        keyset, keyset_params = _keyset(compiler, orders, cursor_row, before)
        where.append(keyset)
        params.extend(keyset_params)

    order_sql = ", ".join(_order_term(compiler, attr, way, before) for attr, way in orders)
    select = None if paging.select_all else paging.select
    selected = [*SYSTEM_SQL, *(key for key in columns if select is None or key in select)]
    limit = paging.limit if paging.limit is not None else default_limit
    if limit is None:
        limit = -1  # SQLite: no limit
    offset = 0 if paging.offset is None else paging.offset
    sql = (
        f"SELECT {', '.join(quote_ident(name) for name in selected)} FROM {table_sql} "
        f"WHERE {' AND '.join(where) or '1'} ORDER BY {order_sql} LIMIT ? OFFSET ?"
    )
    count_sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {table_sql} "
        f"WHERE {' AND '.join(filters) or '1'} LIMIT {COUNT_CAP})"
    )
    return ListSQL(
        sql=sql,
        params=[*params, limit, offset],
        count_sql=count_sql,
        count_params=list(filter_params),
        reverse=before,
        select=select,
        limit=limit,
        offset=offset,
        columns=selected,
    )


def _full_order(orders: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The explicit orders plus utopia's `$sequence` tie-break (none after `$id`/`$sequence`)."""
    if any(attribute in ("$id", "$sequence") for attribute, _ in orders):
        return list(orders)
    leading, direction = orders[0] if orders else ("", "ASC")
    if leading in ("$createdAt", "$updatedAt"):
        return [*orders, ("$sequence", direction)]
    return [*orders, ("$sequence", "ASC")]


def _flip(direction: str) -> str:
    return "DESC" if direction == "ASC" else "ASC"


def _order_term(compiler: _Compiler, attribute: str, direction: str, invert: bool) -> str:
    if direction == "RANDOM":
        return "RANDOM()"
    column = compiler.ref(compiler.column(attribute))
    return f"{column} {_flip(direction) if invert else direction}"


def _keyset(
    compiler: _Compiler,
    orders: list[tuple[str, str]],
    row: Mapping[str, object],
    before: bool,
) -> tuple[str, list[object]]:
    """Rows strictly after the cursor row in the full order tuple (before: reversed order).

    The cursor row's order values are non-null (Appwrite refuses otherwise); other
    rows' NULLs sort first ascending and last descending, as SQLite orders them.
    """
    terms: list[tuple[str, str, object]] = []
    for attribute, direction in orders:
        column = compiler.column(attribute)
        value = row.get(column.sql)
        if value is None:
            raise bad_request(
                "database_query_order_null",
                f"The order column '{attribute}' had a null value. Cursor pagination requires "
                "all rows order column values are non-null.",
            )
        terms.append((compiler.ref(column), _flip(direction) if before else direction, value))
    alternatives: list[str] = []
    params: list[object] = []
    for index, (ref, direction, value) in enumerate(terms):
        parts = []
        for previous_ref, _, previous_value in terms[:index]:
            parts.append(f"{previous_ref} = ?")
            params.append(previous_value)
        parts.append(f"{ref} > ?" if direction == "ASC" else f"({ref} < ? OR {ref} IS NULL)")
        params.append(value)
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", params
