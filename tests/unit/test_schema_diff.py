"""The diff plan (pure): one normalization for both sides, Appwrite's classification, the
schema file's bad input named by its path; and the CLI's refusals (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_inproc import assert_refused, new_workspace

from workbook.command.generate import plan_cells
from workbook.core.schema import Schema
from workbook.core.schema_diff import SchemaFileError, plan, read_schema_file
from workbook.errors import WorkbookError


def table(*columns: dict, indexes: list | None = None) -> dict:  # type: ignore[type-arg]
    return {"$id": "t", "name": "T", "columns": list(columns), "indexes": indexes or []}


def test_what_appwrite_fills_in_is_no_difference() -> None:
    live = Schema(
        "db",
        [
            table(
                {
                    "key": "n",
                    "type": "integer",
                    "min": -9223372036854775808,
                    "max": 9223372036854775807,
                    "status": "available",
                    "$createdAt": "x",
                    "size": 8,
                },
                {"key": "e", "type": "string", "format": "email", "size": 254, "default": None},
                {
                    "key": "f",
                    "type": "double",
                    "min": -1.7976931348623157e308,
                    "max": 1.7976931348623157e308,
                },
            )
        ],
    )
    written = Schema(
        "db",
        [
            table(
                {"key": "n", "type": "integer"},
                {"key": "e", "type": "email"},
                {"key": "f", "type": "float"},
            )
        ],
    )
    assert plan(live, written) == []


def test_each_change_is_classified_as_appwrite_allows_it() -> None:
    a = Schema(
        "db",
        [
            table(
                {"key": "s", "type": "varchar", "size": 10},
                {"key": "k", "type": "enum", "elements": ["a"]},
                {"key": "n", "type": "integer"},
                {"key": "old", "type": "varchar", "size": 5},
                {"key": "gone", "type": "boolean"},
                {"key": "arr", "type": "varchar", "size": 5},
                indexes=[{"key": "i", "type": "key", "columns": ["s"], "orders": ["ASC"]}],
            )
        ],
    )
    b = Schema(
        "db",
        [
            table(
                {"key": "s", "type": "varchar", "size": 20, "required": True},
                {"key": "k", "type": "enum", "elements": ["a", "b"]},
                {"key": "n", "type": "float"},
                {"key": "new", "type": "varchar", "size": 5, "previousKey": "old"},
                {"key": "arr", "type": "varchar", "size": 5, "array": True},
                indexes=[{"key": "i", "type": "unique", "columns": ["s"], "orders": ["ASC"]}],
            )
        ],
    )
    got = {(c.action, c.kind, c.key, c.destructive) for c in plan(a, b)}
    assert got == {
        ("update", "column", "s", False),
        ("update", "column", "k", False),
        ("recreate", "column", "n", True),
        ("rename", "column", "old", False),
        ("delete", "column", "gone", True),
        ("recreate", "column", "arr", True),
        ("delete", "index", "i", False),
        ("add", "index", "i", False),
    }
    up, down = plan_cells(plan(a, b))
    assert up.index("rename_column") < up.index("update_column") < up.index('delete_column("t"')
    assert 'wb.rename_column("t", "new", "old")' in down


def test_an_unmarked_drop_and_add_is_refused_unless_no_renames() -> None:
    a = Schema("db", [table({"key": "old", "type": "varchar", "size": 5})])
    b = Schema("db", [table({"key": "new", "type": "varchar", "size": 5})])
    with pytest.raises(WorkbookError, match='previousKey": "old"'):
        plan_cells(plan(a, b))
    up, _ = plan_cells(plan(a, b), no_renames=True)
    assert 'wb.delete_column("t", "old")' in up and "data_loss_ok" in up


def test_previous_key_naming_no_column_is_refused() -> None:
    a = Schema("db", [table({"key": "x", "type": "boolean"})])
    b = Schema("db", [table({"key": "y", "type": "boolean", "previousKey": "nope"})])
    with pytest.raises(SchemaFileError, match="previousKey names 'nope'"):
        plan(a, b)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "is not valid JSON"),
        ('{"tables": [{"$id": "a", "colour": 1}]}', "tables[0].colour is not a known key"),
        (
            '{"tables": [{"$id": "a"}, {"$id": "b", "columns": [{"key": "c", "type": "int"}]}]}',
            "tables[1].columns[0].type is 'int', not a column type",
        ),
        ('{"tables": [{"$id": "a", "indexes": [{"key": "i", "type": "k"}]}]}', "indexes[0].type"),
    ],
)
def test_schema_file_problems_name_their_path(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(SchemaFileError) as caught:
        read_schema_file(path)
    assert needle in caught.value.message


def test_diff_refusals(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    ws.write("bad.json", json.dumps({"tables": [{"$id": "a", "columns": [{"key": 1}]}]}))
    assert_refused(ws.run("diff", "--schema", "bad.json"), "tables[0].columns[0].key")
    assert_refused(ws.run("diff", "--against", "nowhere"), "unknown environment 'nowhere'")
    both = ws.run("diff", "--against", "local", "--schema", "bad.json")
    assert_refused(both, "exclude each other")
    no_target = ws.run("create", "--name", "x", "--from-diff")
    assert_refused(no_target, "--from-diff needs --schema FILE or --against ENV")
