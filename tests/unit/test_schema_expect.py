"""``wb.expect_table/column/index`` against the real local server through the SDK: a match
passes silently, a mismatch fails with one line naming property, expected and found, and a
dry run notes the mismatch in the plan instead of raising."""

from __future__ import annotations

import pytest
from appwrite.services.tables_db import TablesDB

from workbook.runtime.expect import ExpectationFailed
from workbook.runtime.ops import Ops

pytest_plugins = ["ops_fixtures"]


@pytest.fixture
def posts(ops: Ops) -> Ops:
    ops.create_table(
        "posts",
        "Posts",
        columns=[
            {"key": "title", "type": "varchar", "size": 100, "required": True},
            {"key": "score", "type": "float", "min": 0.0, "max": 5.0},
            {"key": "email", "type": "email"},
            {"key": "tier", "type": "enum", "elements": ["free", "pro"], "default": "free"},
        ],
        indexes=[{"key": "by_title", "type": "unique", "columns": ["title"], "orders": ["ASC"]}],
    )
    return ops


def failure(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(ExpectationFailed) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    text = raised.value.message
    assert "\n" not in text
    return text


def test_matching_expectations_pass(posts: Ops) -> None:
    posts.expect_table("posts", name="Posts", row_security=False, indexes=["by_title"])
    posts.expect_table("posts", columns=["title", "score", "email", "tier"])
    posts.expect_column("posts", "title", type="varchar", size=100, required=True, array=False)
    posts.expect_column("posts", "score", type="double", min=0, max=5)
    posts.expect_column("posts", "score", type="float")
    posts.expect_column("posts", "email", type="email", format="email")
    posts.expect_column("posts", "tier", type="enum", elements=["pro", "free"], default="free")
    posts.expect_index("posts", "by_title", type="unique", columns=["title"], orders=["asc"])
    posts.expect_column("posts", "gone", exists=False)
    posts.expect_index("posts", "gone", exists=False)
    posts.expect_table("nothing", exists=False)


def test_a_mismatch_names_property_expected_and_found(posts: Ops) -> None:
    text = failure(posts.expect_column, "posts", "title", type="varchar", size=255, required=True)
    assert text == "expect_column posts.title: size expected 255, found 100"
    text = failure(posts.expect_column, "posts", "score", type="integer", required=True)
    assert text == (
        "expect_column posts.score: type expected 'integer', found 'float'; "
        "required expected True, found False"
    )
    text = failure(posts.expect_index, "posts", "by_title", type="key", columns=["title", "x"])
    assert "type expected 'key', found 'unique'" in text
    assert "columns expected ['title', 'x'], found ['title']" in text
    text = failure(posts.expect_table, "posts", columns=["title"])
    assert text.startswith("expect_table posts: columns expected ['title'], found [")
    assert failure(posts.expect_column, "posts", "nope") == (
        "expect_column posts.nope: column posts.nope does not exist"
    )
    assert failure(posts.expect_index, "posts", "by_title", exists=False) == (
        "expect_index posts.by_title: index posts.by_title exists, expected none"
    )
    assert failure(posts.expect_table, "ghost") == "expect_table ghost: table ghost does not exist"


def test_a_dry_run_notes_a_mismatch_in_the_plan(posts: Ops, tables: TablesDB) -> None:
    dry = Ops(tables, posts.database_id, dry_run=True, poll_interval=0.02, timeout=10.0)
    dry.update_column("posts", "title", size=255)
    dry.expect_column("posts", "title", size=255)  # the planned state: no note
    dry.expect_column("posts", "title", size=300)
    notes = [s for s in dry.plan if s.operation == "expect_column"]
    assert [s.detail["reason"] for s in notes] == [
        "would fail: expect_column posts.title: size expected 300, found 255"
    ]
    assert len(dry.plan) == 1  # only the update is a change
