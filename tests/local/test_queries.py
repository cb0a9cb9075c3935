"""Row queries against a real SQLite table of the local server's layout.

Queries are written with the official SDK's `appwrite.query.Query` builders, so
the JSON shapes are exactly what the rows routes receive.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from appwrite.query import Query as Q

from workbook.local.errors import AppwriteError
from workbook.local.queries import (
    ColumnSpec,
    ListSQL,
    Query,
    build_list_sql,
    build_where,
    normalize_datetime,
    parse_queries,
    quote_ident,
)

TABLE = quote_ident("rows_t")
COLUMNS: dict[str, ColumnSpec] = {
    "name": ColumnSpec("name", "string"),
    "age": ColumnSpec("age", "integer"),
    "score": ColumnSpec("score", "double"),
    "active": ColumnSpec("active", "boolean"),
    "born": ColumnSpec("born", "datetime"),
    "bio": ColumnSpec("bio", "text"),
    "email": ColumnSpec("email", "string", format="email"),
    "tags": ColumnSpec("tags", "string", array=True),
    "nums": ColumnSpec("nums", "integer", array=True),
    "value": ColumnSpec("value", "string", array=True),
    'we"ird': ColumnSpec('we"ird', "string"),
    "secret": ColumnSpec("secret", "string", encrypt=True),
}
STAMP = "2024-01-01T00:00:00.000+00:00"


def _create(conn: sqlite3.Connection) -> None:
    user = ", ".join(f"{quote_ident(key)} {_affinity(spec)}" for key, spec in COLUMNS.items())
    conn.execute(
        f"CREATE TABLE {TABLE} (_seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "_uid TEXT NOT NULL UNIQUE, _createdAt TEXT, _updatedAt TEXT, _permissions TEXT, "
        f"{user})"
    )


def _affinity(spec: ColumnSpec) -> str:
    if spec.array:
        return "TEXT"
    return {"integer": "INTEGER", "double": "REAL", "boolean": "INTEGER"}.get(spec.type, "TEXT")


def _insert(conn: sqlite3.Connection, rows: Sequence[Mapping[str, object]]) -> None:
    for row in rows:
        stored: dict[str, object] = {
            "_uid": row["$id"],
            "_createdAt": row.get("$createdAt", STAMP),
            "_updatedAt": row.get("$updatedAt", STAMP),
            "_permissions": "[]",
        }
        for key, spec in COLUMNS.items():
            value = row.get(key)
            if value is not None and spec.array:
                value = json.dumps(value)
            elif isinstance(value, bool):
                value = int(value)
            stored[key] = value
        names = ", ".join(quote_ident(name) for name in stored)
        holes = ", ".join("?" for _ in stored)
        conn.execute(f"INSERT INTO {TABLE} ({names}) VALUES ({holes})", list(stored.values()))


SAMPLE: list[dict[str, object]] = [
    {
        "$id": "ada",
        "name": "Ada Lovelace",
        "age": 36,
        "score": 9.5,
        "active": True,
        "born": "1815-12-10T00:00:00.000+00:00",
        "bio": "Poet of science, first programmer.",
        "email": "ada@example.com",
        "tags": ["math", "poetry"],
        "nums": [1, 2, 3],
        "value": ["x"],
        'we"ird': "w1",
    },
    {
        "$id": "alan",
        "name": "Alan Turing",
        "age": 41,
        "score": 9.9,
        "active": True,
        "born": "1912-06-23T00:00:00.000+00:00",
        "bio": "Computing machinery and intelligence",
        "email": "alan@example.org",
        "tags": ["math", "crypto"],
        "nums": [12, 200],
        "value": ["y"],
        'we"ird': "w2",
    },
    {
        "$id": "grace",
        "name": "Grace Hopper",
        "age": 85,
        "score": 8.0,
        "active": False,
        "born": "1906-12-09T00:00:00.000+00:00",
        "bio": "Compilers; COBOL 100% of the time",
        "email": "grace@navy.mil",
        "tags": ["navy"],
        "nums": [2],
        "value": None,
        'we"ird': None,
    },
    {
        "$id": "linus",
        "name": "linus",
        "age": None,
        "score": None,
        "active": None,
        "born": None,
        "bio": None,
        "email": None,
        "tags": None,
        "nums": None,
        "value": [],
        'we"ird': "w_x",
    },
    {
        "$id": "edsger",
        "name": "Edsger Dijkstra",
        "age": 72,
        "score": 7.25,
        "active": False,
        "born": "1930-05-11T00:00:00.000+00:00",
        "bio": "Goto considered harmful",
        "email": "ew@utexas.edu",
        "tags": ["graphs", "math"],
        "nums": [],
        "value": ["x", "y"],
        'we"ird': "w%",
    },
]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "rows.sqlite")
    _create(connection)
    _insert(connection, SAMPLE)
    yield connection
    connection.close()


def _loader(conn: sqlite3.Connection) -> Callable[[str], Mapping[str, object] | None]:
    def load(row_id: str) -> Mapping[str, object] | None:
        cursor = conn.execute(f"SELECT * FROM {TABLE} WHERE _uid = ?", (row_id,))
        row = cursor.fetchone()
        if row is None:
            return None
        return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}

    return load


def _plan(
    conn: sqlite3.Connection, queries: Sequence[str], fulltext: Sequence[str] = ()
) -> ListSQL:
    return build_list_sql(
        TABLE, COLUMNS, parse_queries(queries), load_cursor_row=_loader(conn), fulltext=fulltext
    )


def _ids(conn: sqlite3.Connection, queries: Sequence[str], fulltext: Sequence[str] = ()) -> list:
    plan = _plan(conn, queries, fulltext)
    ids = [row[1] for row in conn.execute(plan.sql, plan.params)]
    return ids[::-1] if plan.reverse else ids


def _total(conn: sqlite3.Connection, queries: Sequence[str], fulltext: Sequence[str] = ()) -> int:
    plan = _plan(conn, queries, fulltext)
    return conn.execute(plan.count_sql, plan.count_params).fetchone()[0]


def _where_ids(conn: sqlite3.Connection, queries: Sequence[str], **options: object) -> set[str]:
    where, params = build_where(COLUMNS, parse_queries(queries), table_sql=TABLE, **options)
    return {row[0] for row in conn.execute(f"SELECT _uid FROM {TABLE} WHERE {where}", params)}


def _error(call: Callable[[], object]) -> AppwriteError:
    with pytest.raises(AppwriteError) as caught:
        call()
    return caught.value


ALL = {"ada", "alan", "grace", "linus", "edsger"}

FILTER_CASES = [
    ([Q.equal("name", "linus")], {"linus"}),
    ([Q.equal("name", ["linus", "Ada Lovelace", "nobody"])], {"linus", "ada"}),
    ([Q.equal("name", "LINUS")], set()),
    ([Q.not_equal("name", "linus")], ALL - {"linus"}),
    ([Q.less_than("age", 41)], {"ada"}),
    ([Q.less_than_equal("age", 41)], {"ada", "alan"}),
    ([Q.greater_than("age", 41)], {"grace", "edsger"}),
    ([Q.greater_than_equal("score", 9.5)], {"ada", "alan"}),
    ([Q.greater_than("score", 8)], {"ada", "alan"}),
    ([Q.between("age", 40, 80)], {"alan", "edsger"}),
    ([Q.not_between("age", 40, 80)], {"ada", "grace"}),
    ([Q.is_null("age")], {"linus"}),
    ([Q.is_not_null("age")], ALL - {"linus"}),
    ([Q.is_null("tags")], {"linus"}),
    ([Q.equal("active", True)], {"ada", "alan"}),
    ([Q.equal("active", False)], {"grace", "edsger"}),
    ([Q.starts_with("name", "A")], {"ada", "alan"}),
    ([Q.starts_with("name", "")], ALL),
    ([Q.not_starts_with("name", "A")], {"grace", "linus", "edsger"}),
    ([Q.ends_with("email", ".com")], {"ada"}),
    ([Q.ends_with("email", "")], ALL - {"linus"}),
    ([Q.not_ends_with("email", ".com")], {"alan", "grace", "edsger"}),
    ([Q.starts_with('we"ird', "w_")], {"linus"}),
    ([Q.ends_with('we"ird', "%")], {"edsger"}),
    ([Q.contains("bio", "100%")], {"grace"}),
    ([Q.contains("bio", "cobol")], {"grace"}),
    ([Q.not_contains("bio", "GOTO")], {"ada", "alan", "grace"}),
    ([Q.search("bio", "COBOL")], {"grace"}),
    ([Q.search("bio", "time")], {"grace"}),
    ([Q.search("bio", "programmer")], {"ada"}),
    ([Q.search("bio", "science,")], {"ada"}),
    ([Q.search("bio", "science,first")], {"ada"}),
    ([Q.search("bio", "cobol?[x]")], {"grace"}),
    ([Q.search("bio", '"science first"')], {"ada"}),
    ([Q.search("bio", '"poet science"')], set()),
    ([Q.contains("bio", ["harmful", "machinery"])], {"alan", "edsger"}),
    ([Q.not_contains("bio", "o")], set()),
    ([Q.not_contains("bio", "Goto")], {"ada", "alan", "grace"}),
    ([Q.contains("tags", "math")], {"ada", "alan", "edsger"}),
    ([Q.contains("tags", ["navy", "crypto"])], {"grace", "alan"}),
    ([Q.contains_any("tags", ["navy", "crypto"])], {"grace", "alan"}),
    ([Q.contains_all("tags", ["math", "crypto"])], {"alan"}),
    ([Q.contains_all("bio", ["Comp", "COBOL"])], {"grace"}),
    ([Q.contains_any("bio", ["COBOL", "Poet"])], {"grace", "ada"}),
    ([Q.not_contains("tags", "math")], {"grace"}),
    ([Q.contains("nums", 2)], {"ada", "grace"}),
    ([Q.contains("nums", [200])], {"alan"}),
    ([Q.contains("value", "x")], {"ada", "edsger"}),
    ([Q.not_contains("value", "x")], {"alan", "linus"}),
    ([Q.equal("$id", ["ada", "grace"])], {"ada", "grace"}),
    ([Q.equal("$sequence", 2)], {"alan"}),
    ([Q.equal("$sequence", "3")], {"grace"}),
    ([Q.greater_than("$sequence", "3")], {"linus", "edsger"}),
    ([Q.less_than("born", "1910-01-01")], {"ada", "grace"}),
    ([Q.equal("born", "1912-06-23T02:00:00+02:00")], {"alan"}),
    ([Q.equal("born", "1912-06-23T00:00:00Z")], {"alan"}),
    ([Q.created_before("2025-01-01T00:00:00.000+00:00")], ALL),
    ([Q.updated_after("2024-01-01T00:00:00.000+00:00")], set()),
    ([Q.greater_than("age", 30), Q.less_than("age", 80)], {"ada", "alan", "edsger"}),
    ([Q.or_queries([Q.equal("name", "linus"), Q.greater_than("age", 80)])], {"linus", "grace"}),
    (
        [Q.and_queries([Q.equal("active", True), Q.greater_than("age", 40)])],
        {"alan"},
    ),
    (
        [
            Q.or_queries(
                [
                    Q.and_queries([Q.contains("tags", "math"), Q.less_than("age", 40)]),
                    Q.and_queries([Q.is_null("age"), Q.equal("$id", "linus")]),
                ]
            )
        ],
        {"ada", "linus"},
    ),
    ([Q.search("bio", "compilers")], {"grace"}),
    ([Q.search("bio", "comp")], {"grace", "alan"}),
    ([Q.search("bio", "poet goto")], {"ada", "edsger"}),
    ([Q.search("bio", "considered harm")], {"edsger"}),
    ([Q.search("bio", '"considered harmful"')], {"edsger"}),
    ([Q.search("bio", '"harmful considered"')], set()),
    ([Q.search("bio", "---")], set()),
    ([Q.not_search("bio", "compilers")], {"ada", "alan", "edsger"}),
]


@pytest.mark.parametrize(("queries", "expected"), FILTER_CASES)
def test_filters_select_the_expected_rows(
    conn: sqlite3.Connection, queries: list[str], expected: set[str]
) -> None:
    assert set(_ids(conn, [*queries, Q.limit(100)], fulltext=["bio"])) == expected
    assert _where_ids(conn, queries, fulltext=["bio"]) == expected
    assert _total(conn, [*queries, Q.limit(1)], fulltext=["bio"]) == len(expected)


def test_where_works_in_update_and_delete(conn: sqlite3.Connection) -> None:
    where, params = build_where(COLUMNS, parse_queries([Q.contains("value", "y")]), table_sql=TABLE)
    conn.execute(f"UPDATE {TABLE} SET name = ? WHERE {where}", ["changed", *params])
    changed = {row[0] for row in conn.execute(f"SELECT _uid FROM {TABLE} WHERE name='changed'")}
    assert changed == {"alan", "edsger"}
    conn.execute(f"DELETE FROM {TABLE} WHERE {where}", params)
    assert _where_ids(conn, []) == {"ada", "grace", "linus"}


def test_no_queries_mean_everything_by_sequence(conn: sqlite3.Connection) -> None:
    assert _ids(conn, []) == ["ada", "alan", "grace", "linus", "edsger"]
    assert build_where(COLUMNS, []) == ("1", [])
    assert _total(conn, []) == 5


def test_values_are_bound_never_interpolated(conn: sqlite3.Connection) -> None:
    evil = "x' OR '1'='1\"; DROP TABLE rows_t; --"
    queries = [
        Q.equal("name", [evil, evil + "2"]),
        Q.not_equal("name", evil),
        Q.starts_with("name", evil),
        Q.ends_with("email", evil),
        Q.contains("bio", evil),
        Q.contains("tags", evil),
        Q.or_queries([Q.less_than("name", evil), Q.greater_than("name", evil)]),
        Q.search("bio", evil + " word"),
        Q.between("born", "2000-01-01", "2001-01-01"),
        Q.cursor_after("ada"),
    ]
    plan = _plan(conn, queries, fulltext=["bio"])
    for text in (plan.sql, plan.count_sql):
        assert "DROP" not in text and "'1'" not in text and "2000" not in text
        assert "ada" not in text and "Ada" not in text
    assert evil in plan.params
    assert conn.execute(plan.sql, plan.params).fetchall() == []
    assert conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0] == 5


def test_select_restricts_user_columns_but_keeps_system_ones(conn: sqlite3.Connection) -> None:
    plan = _plan(conn, [Q.select(["name", "$id", "$createdAt"]), Q.select(["age"])])
    assert plan.select == ["name", "age"]
    assert plan.columns == [
        "_seq",
        "_uid",
        "_createdAt",
        "_updatedAt",
        "_permissions",
        "name",
        "age",
    ]
    rows = conn.execute(plan.sql, plan.params).fetchall()
    assert len(rows[0]) == 7
    everything = _plan(conn, [Q.select(["*"])])
    assert everything.select is None and len(everything.columns) == 5 + len(COLUMNS)
    only_system = _plan(conn, [Q.select(["$id"])])
    assert only_system.select == [] and only_system.columns[-1] == "_permissions"


def test_limit_offset_defaults_and_first_one_wins(conn: sqlite3.Connection) -> None:
    _insert(conn, [{"$id": f"extra{n}"} for n in range(30)])
    assert len(_ids(conn, [])) == 25
    assert _ids(conn, [Q.limit(2), Q.limit(10)]) == ["ada", "alan"]
    assert _ids(conn, [Q.limit(2), Q.offset(3), Q.offset(0)]) == ["linus", "edsger"]
    assert _ids(conn, [Q.limit(10**18)])[-1] == "extra29"
    assert _total(conn, [Q.limit(1), Q.offset(30)]) == 35
    assert _total(conn, [Q.starts_with("$id", "extra")]) == 30


def test_bulk_plans_have_no_default_limit(conn: sqlite3.Connection) -> None:
    _insert(conn, [{"$id": f"extra{n}", "age": n} for n in range(30)])

    def bulk(queries: list[str]) -> list[str]:
        plan = build_list_sql(
            TABLE,
            COLUMNS,
            parse_queries(queries),
            load_cursor_row=_loader(conn),
            default_limit=None,
        )
        return [row[1] for row in conn.execute(plan.sql, plan.params)]

    assert len(bulk([])) == 35
    assert bulk([Q.order_desc("age"), Q.limit(3)]) == ["grace", "edsger", "alan"]
    assert bulk([Q.greater_than("age", 80), Q.cursor_after("ada")]) == ["grace"]


def test_total_is_capped_at_5000(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "big.sqlite")
    _create(connection)
    connection.executemany(
        f"INSERT INTO {TABLE} (_uid) VALUES (?)", [(f"r{n}",) for n in range(5003)]
    )
    assert _total(connection, []) == 5000
    assert _total(connection, [Q.greater_than("$sequence", 4990)]) == 13
    connection.close()


def test_order_and_tie_break(conn: sqlite3.Connection) -> None:
    assert _ids(conn, [Q.order_desc("age")]) == ["grace", "edsger", "alan", "ada", "linus"]
    assert _ids(conn, [Q.order_asc("age")]) == ["linus", "ada", "alan", "edsger", "grace"]
    assert _ids(conn, [Q.order_asc("active"), Q.order_desc("$id")]) == [
        "linus",
        "grace",
        "edsger",
        "alan",
        "ada",
    ]
    assert _ids(conn, [Q.order_desc("$createdAt")]) == [
        "edsger",
        "linus",
        "grace",
        "alan",
        "ada",
    ]
    assert _ids(conn, [Q.order_asc("$updatedAt")]) == ["ada", "alan", "grace", "linus", "edsger"]
    assert _ids(conn, [Q.order_desc("$sequence")]) == ["edsger", "linus", "grace", "alan", "ada"]
    assert sorted(_ids(conn, [Q.order_random()])) == sorted(ALL)
    plan = _plan(conn, [Q.order_desc("$id")])
    assert "_seq" not in plan.sql.split("ORDER BY")[1]


def test_cursor_through_nulls(conn: sqlite3.Connection) -> None:
    assert _ids(conn, [Q.order_desc("age"), Q.cursor_after("ada")]) == ["linus"]
    assert _ids(conn, [Q.order_asc("age"), Q.cursor_after("ada")]) == ["alan", "edsger", "grace"]
    assert _ids(conn, [Q.order_asc("age"), Q.cursor_before("ada")]) == ["linus"]
    assert _ids(conn, [Q.order_desc("age"), Q.cursor_before("alan")]) == ["grace", "edsger"]
    assert _ids(conn, [Q.order_desc("age"), Q.cursor_before("grace")]) == []
    assert _ids(conn, [Q.cursor_after("edsger")]) == []
    assert _ids(conn, [Q.cursor_before("ada")]) == []
    assert _ids(conn, [Q.cursor_after("ada"), Q.offset(1), Q.limit(2)]) == ["grace", "linus"]
    assert _ids(conn, [Q.cursor_before("edsger"), Q.limit(2)]) == ["grace", "linus"]
    assert _ids(conn, [Q.equal("active", False), Q.cursor_after("grace")]) == ["edsger"]


def _expected_order(rows: list[dict[str, object]], orders: list[tuple[str, str]]) -> list[str]:
    """Plain Python sort with the server's rules: NULL first ascending, `$sequence` tie-break."""
    keyed = [dict(row, **{"$sequence": index + 1}) for index, row in enumerate(rows)]
    full = list(orders)
    if not any(attribute in ("$id", "$sequence") for attribute, _ in full):
        leading, way = full[0] if full else ("", "ASC")
        full.append(("$sequence", way if leading in ("$createdAt", "$updatedAt") else "ASC"))
    for attribute, way in reversed(full):
        keyed.sort(
            key=lambda row, a=attribute: (row.get(a) is not None, row.get(a) or 0),
            reverse=way == "DESC",
        )
    return [str(row["$id"]) for row in keyed]


ORDERINGS = [
    [],
    [Q.order_asc("name")],
    [Q.order_desc("name")],
    [Q.order_asc("name"), Q.order_desc("age")],
    [Q.order_desc("age"), Q.order_asc("score"), Q.order_desc("name")],
    [Q.order_desc("$createdAt")],
    [Q.order_asc("$createdAt"), Q.order_desc("name")],
    [Q.order_desc("active"), Q.order_asc("$id")],
    [Q.order_desc("$sequence")],
]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursor_paging_walks_the_whole_table(tmp_path: Path, ordering: list[str]) -> None:
    chooser = random.Random(len(ordering) * 7919 + sum(map(len, ordering)))
    rows: list[dict[str, object]] = [
        {
            "$id": f"r{n:03d}",
            "name": chooser.choice(["ann", "bob", "cy", "Dee"]),
            "age": chooser.randint(1, 4),
            "score": chooser.choice([0.5, 1.0, 2.25]),
            "active": chooser.choice([True, False]),
            "$createdAt": chooser.choice(
                ["2024-01-01T00:00:00.000+00:00", STAMP, "2023-05-05T10:00:00.000+00:00"]
            ),
        }
        for n in range(41)
    ]
    connection = sqlite3.connect(tmp_path / "walk.sqlite")
    _create(connection)
    _insert(connection, rows)
    parsed = [json.loads(text) for text in ordering]
    expected = _expected_order(
        rows, [(q["attribute"], "ASC" if q["method"] == "orderAsc" else "DESC") for q in parsed]
    )
    for size in (1, 3, 7):
        forward: list[str] = []
        page = _ids(connection, [*ordering, Q.limit(size)])
        while page:
            forward.extend(page)
            page = _ids(connection, [*ordering, Q.limit(size), Q.cursor_after(page[-1])])
        assert forward == expected
        backward = [expected[-1]]
        page = _ids(connection, [*ordering, Q.limit(size), Q.cursor_before(expected[-1])])
        while page:
            backward = page + backward
            page = _ids(connection, [*ordering, Q.limit(size), Q.cursor_before(page[0])])
        assert backward == expected
    connection.close()


ERRORS = [
    (["not json"], "general_query_invalid", "Invalid query: Syntax error"),
    (['"text"'], "general_query_invalid", "Invalid query. Must be an array, got string"),
    (['{"method":"nope"}'], "general_query_invalid", "Invalid query method: nope"),
    (
        ['{"method":"regex","attribute":"name","values":["a"]}'],
        "general_query_invalid",
        "Invalid query method: regex",
    ),
    (
        ['{"method":5}'],
        "general_query_invalid",
        "Invalid query method. Must be a string, got integer",
    ),
    (
        ['{"method":"equal","attribute":["a"],"values":[1]}'],
        "general_query_invalid",
        "Invalid query attribute. Must be a string, got array",
    ),
    (
        ['{"method":"equal","attribute":"a","values":"x"}'],
        "general_query_invalid",
        "Invalid query values. Must be an array, got string",
    ),
    ([Q.limit(1)] * 101, "general_argument_invalid", "Invalid `queries` param: Value must a valid"),
    ([Q.equal("name", "x" * 4100)], "general_argument_invalid", "no longer than 4096 chars"),
    ([""], "general_argument_invalid", "at least 1 chars"),
]


@pytest.mark.parametrize(("raw", "kind", "message"), ERRORS)
def test_parse_errors(raw: list[str], kind: str, message: str) -> None:
    error = _error(lambda: parse_queries(raw))
    assert (error.code, error.type) == (400, kind)
    assert error.message.startswith(message) or message in error.message


COMPILE_ERRORS = [
    ([Q.equal("secret", "x")], "Invalid query: Cannot query encrypted attribute: secret"),
    ([Q.select(["$tableId"])], "Invalid query: Attribute not found in schema: $tableId"),
    ([Q.equal("x", "a")], "Invalid query: Attribute not found in schema: x"),
    ([Q.order_asc("x")], "Invalid query: Attribute not found in schema: x"),
    ([Q.select(["name", "x"])], "Invalid query: Attribute not found in schema: x"),
    ([Q.equal("age", "abc")], 'Invalid query: Query value is invalid for attribute "age"'),
    ([Q.equal("age", 1.5)], 'Invalid query: Query value is invalid for attribute "age"'),
    ([Q.equal("age", True)], 'Invalid query: Query value is invalid for attribute "age"'),
    ([Q.equal("active", "true")], 'Invalid query: Query value is invalid for attribute "active"'),
    ([Q.equal("name", 5)], 'Invalid query: Query value is invalid for attribute "name"'),
    ([Q.equal("name", [None])], 'Invalid query: Query value is invalid for attribute "name"'),
    (
        [Q.less_than("born", "someday")],
        'Invalid query: Query value is invalid for attribute "born"',
    ),
    ([Q.equal("score", 10**400)], 'Invalid query: Query value is invalid for attribute "score"'),
    ([Q.equal("score", "1.5")], 'Invalid query: Query value is invalid for attribute "score"'),
    (
        [Q.equal("$sequence", "abc")],
        'Invalid query: Query value is invalid for attribute "$sequence"',
    ),
    ([Q.contains("tags", 5)], 'Invalid query: Query value is invalid for attribute "tags"'),
    (
        [Q.equal("name", ["v"] * 501)],
        "Invalid query: Query on attribute has greater than 500 values: name",
    ),
    ([Q.equal("name", [])], "Invalid query: Equal queries require at least one value."),
    ([Q.contains("tags", [])], "Invalid query: Contains queries require at least one value."),
    (
        ['{"method":"lessThan","attribute":"age","values":[1,2]}'],
        "Invalid query: LessThan queries require exactly one value.",
    ),
    (
        ['{"method":"between","attribute":"age","values":[1]}'],
        "Invalid query: Between queries require exactly two values.",
    ),
    (
        [Q.contains("age", 1)],
        'Invalid query: Cannot query contains on attribute "age" because it is not an array',
    ),
    (
        [Q.not_contains("active", True)],
        'Invalid query: Cannot query notContains on attribute "active" because it is not an',
    ),
    (
        [Q.equal("tags", "math")],
        'Invalid query: Cannot query equal on attribute "tags" because it is an array.',
    ),
    ([Q.search("name", "x")], 'Searching by attribute "name" requires a fulltext index.'),
    (
        [Q.or_queries([Q.search("name", "x"), Q.equal("name", "y")])],
        'Searching by attribute "name" requires a fulltext index.',
    ),
    (
        [Q.or_queries([Q.equal("name", "y")])],
        "Invalid query: Or queries require at least two queries",
    ),
    (
        [Q.and_queries([Q.equal("name", "y"), Q.limit(1)])],
        "Invalid query: And queries can only contain filter queries",
    ),
    (
        [Q.limit(0)],
        "Invalid query: Invalid limit: Value must be a valid range between 1 and "
        "9,223,372,036,854,775,807",
    ),
    (
        ['{"method":"limit","values":["many"]}'],
        "Invalid query: Invalid limit: Value must be a valid range",
    ),
    ([Q.offset(-1)], "Invalid query: Invalid offset: Value must be a valid range between 0 and"),
    ([Q.select([])], "Invalid query: No attributes selected"),
    ([Q.select(["name", "name"])], "Invalid query: Duplicate attributes selected"),
    (
        ['{"method":"select","values":[1]}'],
        "Invalid query: Attribute selection must be a string, got int",
    ),
    (
        [Q.exists(["name"])],
        "Invalid query: Query method exists is not supported by the local server",
    ),
    ([Q.cursor_after("_bad")], "Invalid cursor: UID must contain at most 36 chars."),
    ([Q.cursor_after("x" * 37)], "Invalid cursor: UID must contain at most 36 chars."),
]


@pytest.mark.parametrize(("raw", "message"), COMPILE_ERRORS)
def test_invalid_queries_are_refused_like_appwrite(
    conn: sqlite3.Connection, raw: list[str], message: str
) -> None:
    error = _error(lambda: _plan(conn, raw))
    assert (error.code, error.type) == (400, "general_query_invalid")
    assert error.message.startswith(message)
    if not any("cursor" in text for text in raw):
        error = _error(lambda: build_where(COLUMNS, parse_queries(raw)))
        assert error.message.startswith(message)


def test_deep_nesting_is_refused_not_a_crash(conn: sqlite3.Connection) -> None:
    def nested(depth: int) -> str:
        query = Q.not_search("bio", '"a b"')
        for level in range(depth):
            join = Q.or_queries if level % 2 else Q.and_queries
            query = join([query, Q.is_null("bio")])
        return query

    assert _ids(conn, [nested(40)], fulltext=["bio"]) == ["linus"]
    error = _error(lambda: _plan(conn, [nested(41)], fulltext=["bio"]))
    assert error.type == "general_query_invalid" and "nested deeper than 40" in error.message


def test_cursor_errors(conn: sqlite3.Connection) -> None:
    error = _error(lambda: _plan(conn, [Q.cursor_after("ghost")]))
    assert (error.code, error.type) == (400, "general_cursor_not_found")
    assert error.message == "Row 'ghost' for the 'cursor' value not found."
    error = _error(lambda: _plan(conn, [Q.order_asc("age"), Q.cursor_before("linus")]))
    assert (error.code, error.type) == (400, "database_query_order_null")
    assert error.message == (
        "The order column 'age' had a null value. Cursor pagination requires all rows order "
        "column values are non-null."
    )
    error = _error(lambda: _plan(conn, [Q.order_random(), Q.cursor_after("ada")]))
    assert error.type == "general_query_invalid"


def test_cursor_is_checked_before_other_queries(conn: sqlite3.Connection) -> None:
    error = _error(lambda: _plan(conn, [Q.equal("x", 1), Q.cursor_after("ghost")]))
    assert error.type == "general_cursor_not_found"


def test_parse_keeps_nesting() -> None:
    parsed = parse_queries(
        [Q.or_queries([Q.equal("a", 1), Q.and_queries([Q.is_null("b"), Q.limit(2)])])]
    )
    assert parsed == [
        Query(
            "or",
            "",
            (
                Query("equal", "a", (1,)),
                Query("and", "", (Query("isNull", "b"), Query("limit", "", (2,)))),
            ),
        )
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-03-01T10:20:30.123456+02:00", "2024-03-01T08:20:30.123+00:00"),
        ("2024-03-01", "2024-03-01T00:00:00.000+00:00"),
        ("2024-03-01 10:00:00", "2024-03-01T10:00:00.000+00:00"),
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000+00:00"),
        ("soon", None),
        (5, None),
    ],
)
def test_datetimes_normalize_like_stored_values(given: object, stored: str | None) -> None:
    assert normalize_datetime(given) == stored
