"""Lint codes on schema changes (pure): each code made to trigger."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cli_inproc import assert_refused, new_workspace, snapshot

from workbook.command.lint import classify
from workbook.core.schema import Schema


def schema(*tables: dict) -> Schema:  # type: ignore[type-arg]
    return Schema("main", list(tables))


def table(table_id: str, columns: list, indexes: list | None = None) -> dict:  # type: ignore[type-arg]
    return {"$id": table_id, "name": table_id, "columns": columns, "indexes": indexes or []}


def test_each_code_triggers() -> None:
    before = schema(
        table(
            "t",
            [
                {"key": "a", "type": "varchar", "size": 50},
                {"key": "b", "type": "integer"},
                {"key": "gone", "type": "datetime"},
                {"key": "old", "type": "varchar", "size": 9},
                {"key": "k", "type": "enum", "elements": ["x", "y"]},
            ],
        ),
        table("dropped", []),
    )
    after = schema(
        table("wide", [{"key": "w", "type": "varchar", "size": 14500}]),  # 59069 of 65535 bytes
        table(
            "t",
            [
                {"key": "a", "type": "varchar", "size": 20, "required": True},
                {"key": "b", "type": "varchar", "size": 9},
                {"key": "new", "type": "varchar", "size": 9},
                {"key": "k", "type": "enum", "elements": ["x"]},
                *({"key": f"c{i}", "type": "boolean"} for i in range(910)),
            ],
            [{"key": "u", "type": "unique", "columns": ["a"]}],
        ),
    )
    codes = {(f.code, f.target) for f in classify("002_x", before, after)}
    assert codes == {
        ("DS101", "dropped"),
        ("DS102", "t.gone"),
        ("DS103", "t.b"),
        ("BC101", "t.old"),
        ("MF101", "t.u"),
        ("MF102", "t.a"),
        ("MF103", "t.a"),
        ("MF104", "t.k"),
        ("LM101", "t"),
        ("LM103", "wide"),
    }


def test_row_width_counts_as_appwrite_does() -> None:
    def widths(*columns: dict) -> list[str]:  # type: ignore[type-arg]
        return [f.message for f in classify("001_x", schema(), schema(table("t", list(columns))))]

    text = {"key": "a", "type": "varchar", "size": 14000}  # 4 * 14000 + 2 bytes
    link = {"key": "r", "type": "relationship"}  # 1021 bytes
    assert widths(text, link) == []  # 58090 bytes: more than 10% below 65535
    assert widths(text, link, {**link, "key": "s"}) == [
        "estimated row width 59111 bytes (limit 65535)"
    ]
    assert widths({**text, "size": 16381}, {"key": "n", "type": "integer", "size": 8}) == [
        "estimated row width 66601 bytes (limit 65535) — over it: Appwrite refuses the column"
    ]


def test_a_new_table_risks_nothing() -> None:
    after = schema(
        table(
            "n",
            [{"key": "a", "type": "boolean"}],
            [{"key": "u", "type": "unique", "columns": ["a"]}],
        )
    )
    assert classify("001_x", schema(), after) == []


def test_lint_bad_input_is_refused_before_any_replay(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path, folders=("migrations",))
    before = snapshot(ws.root)
    assert_refused(ws.run("lint", "--env", "nope"), "unknown environment 'nope'")
    assert_refused(ws.run("lint", "--migration", "099"), "no migration '099'")
    assert snapshot(ws.root) == before  # no replay cache: nothing ran


def test_a_finding_reads_as_one_line_and_as_json() -> None:
    before = schema(table("t", [{"key": "a", "type": "varchar", "size": 9}]))
    after = schema(table("t", [{"key": "a", "type": "varchar", "size": 9, "required": True}]))
    (finding,) = classify("002_x", before, after)
    shown = replace(finding, cell='cells[5] wb.update_column("t", "a", required=True)')
    assert shown.line() == (
        'MF102 002_x t.a (cells[5] wb.update_column("t", "a", required=True)): '
        "makes t.a required: existing nulls fail it"
    )
    assert shown.as_dict()["fails"] is False and "subject" not in shown.as_dict()
    blocked = replace(shown, live="2 row(s) of 'prod' fail it", blocking=True)
    assert blocked.fails and blocked.line().endswith("— 2 row(s) of 'prod' fail it")
    assert not replace(blocked, acknowledged=True).fails


def test_the_cell_trace_keeps_up_cells_that_changed_the_schema(tmp_path: Path) -> None:
    import json

    from workbook.command.replay import CELL_KEY, CellTrace, load_cells

    states = iter(
        [
            schema(table("t", [])),  # after cell 5: a change
            schema(table("t", [])),  # after cell 6: none
            schema(table("t", [{"key": "a", "type": "boolean"}])),  # after cell 7
        ]
    )
    trace = CellTrace(lambda: next(states))
    trace.last = schema()

    def cell(source: str, index: int, tags: list[str]) -> dict:  # type: ignore[type-arg]
        return {"cell_type": "code", "source": source, "metadata": {"tags": tags, CELL_KEY: index}}

    trace.after_cell(cell("wb = workbook.connect()", 3, []), cell_index=4)  # not an up cell
    trace.after_cell(cell('%%up\n# t\nwb.create_table("t")', 5, ["up"]), cell_index=6)
    trace.after_cell(cell("%%up\nwb.plan", 6, ["up"]), cell_index=7)
    trace.after_cell(cell('%%up\nwb.add_column("t", "a")', 7, []), cell_index=8)
    final = schema(table("t", [{"key": "a", "type": "boolean"}]), table("x", []))
    trace.finish(tmp_path / "k.cells.json", final)  # a change no up cell made
    records = load_cells(tmp_path / "k.cells.json")
    assert [(r["cell"], r["line"]) for r in records] == [
        (5, 'wb.create_table("t")'),
        (7, 'wb.add_column("t", "a")'),
        (None, "outside the up cells"),
    ]
    assert json.loads((tmp_path / "k.cells.json").read_text())[2]["tables"][1]["$id"] == "x"
