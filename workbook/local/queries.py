"""Appwrite row queries compiled to SQLite, with Appwrite 1.9.6's validation and paging rules.

The rows routes hand over the raw `queries[]` strings the SDK sent; this module
parses them the way utopia-php/database 7.2.6 does (same checks, same messages),
then compiles filters, orders, cursor and paging into parameterised SQL against
the physical layout of one Appwrite table (see DESIGN.md, `workbook.local`).
Values are always bound as parameters; only quoted identifiers enter the SQL text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from workbook.local.errors import AppwriteError, bad_request, query_invalid

MAX_QUERIES = 100
MAX_QUERY_LENGTH = 4096
MAX_VALUES = 500
DEFAULT_LIMIT = 25
COUNT_CAP = 5000
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)

STRING_TYPES = frozenset(
    {"string", "varchar", "text", "mediumtext", "longtext", "email", "url", "ip", "enum"}
)
SPATIAL_TYPES = frozenset({"point", "linestring", "polygon"})

FILTER_METHODS = frozenset(
    {
        "equal",
        "notEqual",
        "lessThan",
        "lessThanEqual",
        "greaterThan",
        "greaterThanEqual",
        "between",
        "notBetween",
        "isNull",
        "isNotNull",
        "startsWith",
        "notStartsWith",
        "endsWith",
        "notEndsWith",
        "contains",
        "containsAny",
        "containsAll",
        "notContains",
        "search",
        "notSearch",
        "and",
        "or",
    }
)
# Methods utopia-php/database knows but this server does not evaluate: they parse
# (as on Appwrite) and then fail with a clear 400 instead of a wrong answer.
UNSUPPORTED_METHODS = frozenset(
    {
        "regex",
        "exists",
        "notExists",
        "elemMatch",
        "relationship",
        "crosses",
        "notCrosses",
        "distanceEqual",
        "distanceNotEqual",
        "distanceGreaterThan",
        "distanceLessThan",
        "intersects",
        "notIntersects",
        "overlaps",
        "notOverlaps",
        "touches",
        "notTouches",
        "covers",
        "notCovers",
        "spatialEquals",
        "notSpatialEquals",
        "vectorDot",
        "vectorCosine",
        "vectorEuclidean",
    }
)
PAGING_METHODS = frozenset(
    {
        "select",
        "orderAsc",
        "orderDesc",
        "orderRandom",
        "limit",
        "offset",
        "cursorAfter",
        "cursorBefore",
    }
)
KNOWN_METHODS = FILTER_METHODS | UNSUPPORTED_METHODS | PAGING_METHODS
UID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
LOGICAL_METHODS = frozenset({"and", "or", "elemMatch", "relationship"})

ONE_VALUE_METHODS = frozenset(
    {
        "notEqual",
        "lessThan",
        "lessThanEqual",
        "greaterThan",
        "greaterThanEqual",
        "search",
        "notSearch",
        "startsWith",
        "notStartsWith",
        "endsWith",
        "notEndsWith",
    }
)
SOME_VALUES_METHODS = frozenset({"equal", "contains", "containsAny", "containsAll", "notContains"})
CONTAINS_METHODS = SOME_VALUES_METHODS - {"equal"}
ARRAY_METHODS = CONTAINS_METHODS | {"isNull", "isNotNull"}
COMPARISONS = {
    "notEqual": "!=",
    "lessThan": "<",
    "lessThanEqual": "<=",
    "greaterThan": ">",
    "greaterThanEqual": ">=",
}


@dataclass(frozen=True)
class ColumnSpec:
    """What the compiler needs to know of one user column."""

    key: str
    type: str
    array: bool = False
    format: str | None = None


@dataclass(frozen=True)
class Query:
    """One parsed Appwrite query; `values` holds nested `Query`s for `and`/`or`."""

    method: str
    attribute: str = ""
    values: tuple[object, ...] = ()


@dataclass
class ListSQL:
    """Everything a list route needs to run one page and its total."""

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
class _Column:
    sql: str
    spec: ColumnSpec


SYSTEM_COLUMNS: dict[str, _Column] = {
    "$id": _Column("_uid", ColumnSpec("$id", "string")),
    "$sequence": _Column("_seq", ColumnSpec("$sequence", "id")),
    "$createdAt": _Column("_createdAt", ColumnSpec("$createdAt", "datetime")),
    "$updatedAt": _Column("_updatedAt", ColumnSpec("$updatedAt", "datetime")),
}
SYSTEM_SQL = ["_seq", "_uid", "_createdAt", "_updatedAt", "_permissions"]
INTERNAL_SELECTABLE = frozenset(
    {
        "$id",
        "$sequence",
        "$createdAt",
        "$updatedAt",
        "$permissions",
        "$collection",
        "$tableId",
        "$databaseId",
    }
)


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
    if isinstance(value, str):
        return "string"
    return "array"


def parse_queries(raw: Sequence[str]) -> list[Query]:
    """Parse the SDK's query strings, refusing what Appwrite refuses before touching data."""
    if len(raw) > MAX_QUERIES:
        raise query_invalid(f"Invalid query: Queries must be at most {MAX_QUERIES}, got {len(raw)}")
    parsed: list[Query] = []
    for text in raw:
        if not isinstance(text, str):
            raise query_invalid("Invalid query: Syntax error")
        if len(text) > MAX_QUERY_LENGTH:
            raise query_invalid(
                f"Invalid query: Query must be at most {MAX_QUERY_LENGTH} characters long"
            )
        try:
            data = json.loads(text)
        except ValueError:
            raise query_invalid("Invalid query: Syntax error") from None
        if not isinstance(data, dict):
            raise query_invalid(f"Invalid query. Must be an array, got {_php_type(data)}")
        parsed.append(_parse_one(data))
    return parsed


def _parse_one(data: dict[str, object]) -> Query:
    method = data.get("method", "")
    attribute = data.get("attribute", "")
    values = data.get("values", [])
    if method is None:
        method = ""
    if attribute is None:
        attribute = ""
    if values is None:
        values = []
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
                raise query_invalid(f"Invalid query. Must be an array, got {_php_type(item)}")
            nested.append(_parse_one(item))
        return Query(method, attribute, tuple(nested))
    if method in FILTER_METHODS and len(values) > MAX_VALUES:
        raise query_invalid(
            f"Invalid query: Query on attribute has greater than {MAX_VALUES} values: {attribute}"
        )
    return Query(method, attribute, tuple(values))


def normalize_datetime(value: object) -> str | None:
    """Appwrite's stored datetime form, or None when `value` is not a datetime string."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def _coerce(column: _Column, value: object) -> object:
    """Check one filter value against the column type and return it in stored form."""
    kind = column.spec.type
    bound: object | None = None
    if kind in STRING_TYPES or kind == "relationship":
        bound = value if isinstance(value, str) else None
    elif kind in ("integer", "bigint"):
        if isinstance(value, int) and not isinstance(value, bool) and MIN_INT <= value <= MAX_INT:
            bound = value
    elif kind in ("double", "float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            bound = float(value)
    elif kind == "boolean":
        bound = int(value) if isinstance(value, bool) else None
    elif kind == "datetime":
        bound = normalize_datetime(value)
    elif kind == "id":
        if isinstance(value, int) and not isinstance(value, bool):
            bound = value if 1 <= value <= MAX_INT else None
        elif isinstance(value, str) and value.isdigit() and 1 <= int(value) <= MAX_INT:
            bound = int(value)
    elif kind in SPATIAL_TYPES:
        raise query_invalid(
            f'Invalid query: Queries on spatial attribute "{column.spec.key}" '
            "are not supported by the local server"
        )
    if bound is None:
        raise query_invalid(
            f'Invalid query: Query value is invalid for attribute "{column.spec.key}"'
        )
    return bound


class _Compiler:
    """Compiles filter queries of one table; holds the schema and collects parameters."""

    def __init__(
        self,
        columns: Mapping[str, ColumnSpec],
        table_sql: str | None,
        fulltext: Collection[str],
    ) -> None:
        self.columns = columns
        self.table_sql = table_sql
        self.fulltext = frozenset(fulltext)

    def column(self, attribute: str) -> _Column:
        if attribute in SYSTEM_COLUMNS:
            return SYSTEM_COLUMNS[attribute]
        spec = self.columns.get(attribute)
        if spec is None:
            raise query_invalid(f"Invalid query: Attribute not found in schema: {attribute}")
        return _Column(attribute, spec)

    def ref(self, column: _Column) -> str:
        name = quote_ident(column.sql)
        return f"{self.table_sql}.{name}" if self.table_sql else name

    def filters(self, queries: Sequence[Query], params: list[object]) -> list[str]:
        return [self.filter(query, params) for query in queries]

    def filter(self, query: Query, params: list[object]) -> str:
        method = query.method
        if method in ("and", "or"):
            return self.logical(query, params)
        if method in UNSUPPORTED_METHODS:
            raise query_invalid(
                f"Invalid query: Query method {method} is not supported by the local server"
            )
        values = list(query.values)
        name = _ucfirst(method)
        if method in SOME_VALUES_METHODS and not values:
            raise query_invalid(f"Invalid query: {name} queries require at least one value.")
        if method in ONE_VALUE_METHODS and len(values) != 1:
            raise query_invalid(f"Invalid query: {name} queries require exactly one value.")
        if method in ("between", "notBetween") and len(values) != 2:
            raise query_invalid(f"Invalid query: {name} queries require exactly two values.")
        column = self.column(query.attribute)
        bound = [_coerce(column, value) for value in values]
        self.check_shape(method, column)
        if method in ("search", "notSearch") and query.attribute not in self.fulltext:
            raise query_invalid(
                f'Searching by attribute "{query.attribute}" requires a fulltext index.'
            )
        return self.condition(method, column, bound, params)

    def logical(self, query: Query, params: list[object]) -> str:
        nested = [item for item in query.values if isinstance(item, Query)]
        if any(item.method not in FILTER_METHODS | UNSUPPORTED_METHODS for item in nested):
            raise query_invalid(
                f"Invalid query: {_ucfirst(query.method)} queries can only contain filter queries"
            )
        if len(nested) < 2:
            raise query_invalid(
                f"Invalid query: {_ucfirst(query.method)} queries require at least two queries"
            )
        joiner = " AND " if query.method == "and" else " OR "
        return "(" + joiner.join(self.filter(item, params) for item in nested) + ")"

    @staticmethod
    def check_shape(method: str, column: _Column) -> None:
        spec = column.spec
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
            negate = "NOT " if method == "notBetween" else ""
            return f"{ref} {negate}BETWEEN ? AND ?"
        if method == "isNull":
            return f"{ref} IS NULL"
        if method == "isNotNull":
            return f"{ref} IS NOT NULL"
        if method in ("startsWith", "notStartsWith"):
            parts = []
            for value in values:
                params.extend([value, value])
                parts.append(f"substr({ref}, 1, length(?)) = ?")
            return _negate_if(method == "notStartsWith", parts)
        if method in ("endsWith", "notEndsWith"):
            parts = []
            for value in values:
                params.extend([value, value, value])
                tail = f"substr({ref}, length({ref}) - length(?) + 1)"
                parts.append(f"(length({ref}) >= length(?) AND {tail} = ?)")
            return _negate_if(method == "notEndsWith", parts)
        if method in CONTAINS_METHODS:
            return self.contains(method, column, values, params)
        if method in ("search", "notSearch"):
            return self.search(method, ref, str(values[0]), params)
        raise query_invalid(f"Invalid query method: {method}")

    def contains(
        self, method: str, column: _Column, values: list[object], params: list[object]
    ) -> str:
        ref = self.ref(column)
        if column.spec.array:
            member = f"EXISTS (SELECT 1 FROM json_each({ref}) AS je WHERE je.value {{}})"
            if method == "containsAll":
                params.extend(values)
                return "(" + " AND ".join(member.format("= ?") for _ in values) + ")"
            params.extend(values)
            holes = ", ".join("?" for _ in values)
            test = member.format(f"IN ({holes})")
            if method == "notContains":
                return f"({ref} IS NOT NULL AND NOT {test})"
            return test
        parts = []
        for value in values:
            params.append(value)
            parts.append(f"instr({ref}, ?) > 0")
        if method == "notContains":
            return "NOT (" + " OR ".join(parts) + ")"
        joiner = " AND " if method == "containsAll" else " OR "
        return "(" + joiner.join(parts) + ")"

    @staticmethod
    def search(method: str, ref: str, value: str, params: list[object]) -> str:
        """MariaDB boolean-mode fulltext as Appwrite feeds it, emulated on words.

        utopia strips operator characters and appends `*` to the last word, so a
        row matches when any query word is one of its words, the last one as a
        prefix; a quoted query matches the phrase. Matching ignores case.
        """
        exact = len(value) >= 2 and value.startswith('"') and value.endswith('"')
        cleaned = re.sub(r'[@+\-*()<>~"]', " ", value)
        words = cleaned.split()
        if not words:
            condition = "0"
        else:
            text = _word_text(ref)
            if exact:
                params.append("% " + _escape_like(" ".join(words).lower()) + " %")
                condition = f"{text} LIKE ? ESCAPE '\\'"
            else:
                parts = []
                for index, word in enumerate(words):
                    suffix = "%" if index == len(words) - 1 else " %"
                    params.append("% " + _escape_like(word.lower()) + suffix)
                    parts.append(f"{text} LIKE ? ESCAPE '\\'")
                condition = "(" + " OR ".join(parts) + ")"
        return f"NOT ({condition})" if method == "notSearch" else condition


def _word_text(ref: str) -> str:
    """The column as ' word word ' in lower case, punctuation turned into spaces."""
    expr = f"lower({ref})"
    for char in ",.;:!?()[]{}<>\"'/\\|\t\n\r-_+*@~#&=":
        literal = char.replace("'", "''")
        expr = f"replace({expr}, '{literal}', ' ')"
    return f"(' ' || {expr} || ' ')"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _negate_if(negate: bool, parts: list[str]) -> str:
    if negate:
        return "(" + " AND ".join(f"NOT {part}" for part in parts) + ")"
    return "(" + " OR ".join(parts) + ")"


def _ucfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def build_where(
    columns: Mapping[str, ColumnSpec],
    queries: list[Query],
    *,
    table_sql: str | None = None,
    fulltext: Collection[str] = (),
) -> tuple[str, list[object]]:
    """The WHERE condition of the filter queries alone ("1" when there are none).

    Bulk update/delete by query use it. Pass `table_sql` so array filters can
    reach the row's column from inside `json_each` unambiguously, and `fulltext`
    (keys with a single-column fulltext index) to allow `search`.
    """
    compiler = _Compiler(columns, table_sql, fulltext)
    params: list[object] = []
    filters = [query for query in queries if query.method not in PAGING_METHODS]
    _check_paging(columns, [query for query in queries if query.method in PAGING_METHODS])
    parts = compiler.filters(filters, params)
    return (" AND ".join(parts) if parts else "1"), params


@dataclass(frozen=True)
class _Paging:
    orders: list[tuple[str, str]]  # (attribute, "ASC"/"DESC"/"RANDOM")
    limit: int
    offset: int
    cursor: str | None
    cursor_before: bool
    select: list[str] | None


def _whole_number(value: object, low: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip())
    ):
        number = int(value)
    else:
        return None
    return number if low <= number <= MAX_INT else None


def _check_paging(columns: Mapping[str, ColumnSpec], queries: list[Query]) -> _Paging:
    orders: list[tuple[str, str]] = []
    limit: int | None = None
    offset: int | None = None
    cursor: str | None = None
    cursor_before = False
    select: list[str] | None = None
    select_all = False
    for query in queries:
        method = query.method
        values = list(query.values)
        if method in ("orderAsc", "orderDesc"):
            attribute = query.attribute
            if attribute and attribute not in SYSTEM_COLUMNS and attribute not in columns:
                raise query_invalid(f"Invalid query: Attribute not found in schema: {attribute}")
            if attribute:
                orders.append((attribute, "ASC" if method == "orderAsc" else "DESC"))
        elif method == "orderRandom":
            orders.append(("", "RANDOM"))
        elif method == "limit":
            number = _whole_number(values[0] if values else None, 1)
            if number is None:
                raise query_invalid(
                    "Invalid query: Invalid limit: Value must be a valid range between 1 and "
                    f"{MAX_INT:,}"
                )
            if limit is None:
                limit = number
        elif method == "offset":
            number = _whole_number(values[0] if values else None, 0)
            if number is None:
                raise query_invalid(
                    "Invalid query: Invalid offset: Value must be a valid range between 0 and "
                    f"{MAX_INT:,}"
                )
            if offset is None:
                offset = number
        elif method in ("cursorAfter", "cursorBefore"):
            value = values[0] if values else None
            if not _valid_uid(value):
                raise query_invalid(
                    "Invalid query: Invalid cursor: UID must contain at most 36 chars. Valid "
                    "chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading "
                    "underscore"
                )
            if cursor is None:
                cursor = str(value)
                cursor_before = method == "cursorBefore"
        elif method == "select":
            if not values:
                raise query_invalid("Invalid query: No attributes selected")
            for key in values:
                if not isinstance(key, str):
                    raise query_invalid(
                        "Invalid query: Attribute selection must be a string, got "
                        + _debug_type(key)
                    )
            if len(set(values)) != len(values):
                raise query_invalid("Invalid query: Duplicate attributes selected")
            chosen = select or []
            for key in values:
                assert isinstance(key, str)
                if key == "*":
                    select_all = True
                elif key in INTERNAL_SELECTABLE:
                    continue
                elif key not in columns:
                    raise query_invalid(f"Invalid query: Attribute not found in schema: {key}")
                elif key not in chosen:
                    chosen.append(key)
            select = chosen
    return _Paging(
        orders=orders,
        limit=DEFAULT_LIMIT if limit is None else limit,
        offset=0 if offset is None else offset,
        cursor=cursor,
        cursor_before=cursor_before,
        select=None if select_all else select,
    )


def _valid_uid(value: object) -> bool:
    return isinstance(value, str) and UID_PATTERN.fullmatch(value) is not None


def _debug_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "array"


def build_list_sql(
    table_sql: str,
    columns: Mapping[str, ColumnSpec],
    queries: list[Query],
    *,
    load_cursor_row: Callable[[str], Mapping[str, object] | None],
    fulltext: Collection[str] = (),
) -> ListSQL:
    """One page of rows and its capped total, as Appwrite's list rows computes them."""
    compiler = _Compiler(columns, table_sql, fulltext)
    paging = _check_paging(columns, [query for query in queries if query.method in PAGING_METHODS])
    filter_params: list[object] = []
    filters = compiler.filters(
        [query for query in queries if query.method not in PAGING_METHODS], filter_params
    )

    orders = _full_order(paging.orders)
    random = any(direction == "RANDOM" for _, direction in orders)
    where = list(filters)
    params = list(filter_params)
    if paging.cursor is not None:
        if random:
            raise query_invalid(
                "Invalid query: Cursor pagination is not supported with random order"
            )
        row = load_cursor_row(paging.cursor)
        if row is None:
            raise bad_request(
                "general_cursor_not_found",
                f"Row '{paging.cursor}' for the 'cursor' value not found.",
            )
        keyset, keyset_params = _keyset(compiler, orders, row, paging.cursor_before)
        where.append(keyset)
        params.extend(keyset_params)

    order_sql = ", ".join(
        _order_term(compiler, attribute, direction, paging.cursor_before)
        for attribute, direction in orders
    )
    selected = _selected_columns(columns, paging.select)
    where_sql = " AND ".join(where) if where else "1"
    sql = (
        f"SELECT {', '.join(quote_ident(name) for name in selected)} FROM {table_sql} "
        f"WHERE {where_sql} ORDER BY {order_sql} LIMIT ? OFFSET ?"
    )
    params.extend([paging.limit, paging.offset])
    filter_sql = " AND ".join(filters) if filters else "1"
    count_sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {table_sql} WHERE {filter_sql} LIMIT {COUNT_CAP})"
    )
    return ListSQL(
        sql=sql,
        params=params,
        count_sql=count_sql,
        count_params=list(filter_params),
        reverse=paging.cursor_before,
        select=paging.select,
        limit=paging.limit,
        offset=paging.offset,
        columns=selected,
    )


def _full_order(orders: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The explicit orders plus Appwrite's `$sequence` tie-break."""
    if any(attribute in ("$id", "$sequence") for attribute, _ in orders):
        return list(orders)
    leading_attribute, leading_direction = orders[0] if orders else ("", "ASC")
    if leading_attribute in ("$createdAt", "$updatedAt"):
        return [*orders, ("$sequence", leading_direction)]
    return [*orders, ("$sequence", "ASC")]


def _order_term(compiler: _Compiler, attribute: str, direction: str, invert: bool) -> str:
    if direction == "RANDOM":
        return "RANDOM()"
    if invert:
        direction = "DESC" if direction == "ASC" else "ASC"
    return f"{compiler.ref(compiler.column(attribute))} {direction}"


def _keyset(
    compiler: _Compiler,
    orders: list[tuple[str, str]],
    row: Mapping[str, object],
    before: bool,
) -> tuple[str, list[object]]:
    """Rows strictly after (or before) the cursor row in the full order tuple.

    The cursor row's order values must be non-null (Appwrite refuses otherwise);
    other rows' NULLs sort first ascending, as SQLite orders them.
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
        if before:
            direction = "DESC" if direction == "ASC" else "ASC"
        terms.append((compiler.ref(column), direction, value))
    alternatives: list[str] = []
    params: list[object] = []
    for index, (ref, direction, value) in enumerate(terms):
        parts: list[str] = []
        for prev_ref, _, prev_value in terms[:index]:
            parts.append(f"{prev_ref} = ?")
            params.append(prev_value)
        if direction == "ASC":
            parts.append(f"{ref} > ?")
        else:
            parts.append(f"({ref} < ? OR {ref} IS NULL)")
        params.append(value)
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", params


def _selected_columns(columns: Mapping[str, ColumnSpec], select: list[str] | None) -> list[str]:
    keys = list(columns) if select is None else [key for key in columns if key in select]
    return [*SYSTEM_SQL, *keys]


__all__ = [
    "AppwriteError",
    "ColumnSpec",
    "ListSQL",
    "Query",
    "build_list_sql",
    "build_where",
    "normalize_datetime",
    "parse_queries",
    "quote_ident",
]
