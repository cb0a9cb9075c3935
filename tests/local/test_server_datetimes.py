"""Datetimes as Appwrite's validator reads them (PHP's DateTime: space separator, offsets,
abbreviations, tz database names, rolling fields), stored and answered in UTC with
milliseconds — in row values, `$createdAt`, column defaults and query values."""

from __future__ import annotations

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from local_support import error_of

FORMS = [
    ("1975-06-12 14:12:55+02:00", "1975-06-12T12:12:55.000+00:00"),
    ("1975-06-12 14:12:55 America/New_York", "1975-06-12T18:12:55.000+00:00"),
    ("1975-01-12 14:12:55 America/New_York", "1975-01-12T19:12:55.000+00:00"),
    ("1975-06-12T14:12:55Z", "1975-06-12T14:12:55.000+00:00"),
    ("1975-06-12 14:12:55.123456 UTC", "1975-06-12T14:12:55.123+00:00"),
    ("1975-06-12 14:12:55 EST", "1975-06-12T19:12:55.000+00:00"),
    ("1975-06-12T14:12:55.5-0330", "1975-06-12T17:42:55.500+00:00"),
    ("1975-06-12 14:12", "1975-06-12T14:12:00.000+00:00"),
    ("1975-06-12", "1975-06-12T00:00:00.000+00:00"),
    ("2024-02-30", "2024-03-01T00:00:00.000+00:00"),
    ("@0", "1970-01-01T00:00:00.000+00:00"),
]


@pytest.fixture
def table_id(tables: TablesDB, database_id: str) -> str:
    tables.create_table(
        database_id,
        "events",
        "Events",
        columns=[{"key": "at", "type": "datetime", "required": False}],
    )
    return "events"


def test_php_forms_are_stored_and_answered_in_utc(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    for n, (given, stored) in enumerate(FORMS):
        row = tables.create_row(database_id, table_id, f"r{n}", {"at": given})
        assert row.data["at"] == stored, given
    found = tables.list_rows(
        database_id, table_id, [Query.equal("at", "1975-06-12 16:12:55 +04:00")]
    )
    assert [r.id for r in found.rows] == ["r0"]
    later = tables.list_rows(
        database_id, table_id, [Query.greater_than("at", "2000-01-01 00:00:00 Europe/Paris")]
    )
    assert [r.id for r in later.rows] == ["r9"]


@pytest.mark.parametrize(
    "bad", ["soon", "2024-13-01", "2024-01-32", "2024-03-01 25:00", "2024-03-01 10:00 Nowhere/Else"]
)
def test_what_php_cannot_read_is_an_invalid_structure(
    tables: TablesDB, database_id: str, table_id: str, bad: str
) -> None:
    error = error_of(tables.create_row, database_id, table_id, "bad", {"at": bad})
    assert (error.code, error.type) == (400, "row_invalid_structure")


def test_defaults_and_row_dates_take_the_same_forms(
    tables: TablesDB, database_id: str, table_id: str
) -> None:
    column = tables.create_datetime_column(
        database_id, table_id, "d", False, "2020-01-01 00:00:00 Asia/Tokyo"
    )
    assert column.default == "2019-12-31T15:00:00.000+00:00"
    row = tables.create_row(database_id, table_id, "x", {"$createdAt": "2001-02-03 04:05:06+01:00"})
    assert row.createdat == "2001-02-03T03:05:06.000+00:00"
