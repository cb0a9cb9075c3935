"""Done when (issue 7): ``lint`` reports each code on a migration made to trigger it — the
migration replayed after its predecessor on a scratch server (real kernels), each change
attributed to its cell, may-fail changes checked with real queries against an environment's
rows, and the findings shown under the plan of ``up --dry-run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_inproc import CliWorkspace, add_environment
from sdk_support import tables_for

from workbook.command.lint import for_plan
from workbook.command.scaffold import create
from workbook.core.catalog import load_catalog
from workbook.core.config import Workspace
from workbook.runtime.ops import Ops

COLUMNS = [
    {"key": "a", "type": "varchar", "size": 50},
    {"key": "gone", "type": "datetime"},
    {"key": "k", "type": "enum", "elements": ["x", "y"]},
    {"key": "u", "type": "varchar", "size": 10},
]
FIRST_UP = f'%%up\nwb.create_table("t", "T", columns={COLUMNS!r})\nwb.create_table("dropme")'
FIRST_DOWN = '%%down\nwb.delete_table("dropme")'  # and leaves t: the rest of the way back
WIDE = {"key": "w", "type": "varchar", "size": 14500}
# 002's up cells, from index 5 of the template on; each triggers the codes beside it
SECOND_UP = [
    ('%%up\nwb.delete_column("t", "gone")', ["up", "allow:DS102"]),  # DS102, allowed
    ('%%up\nwb.update_column("t", "a", size=20, required=True)', ["up"]),  # MF102, MF103
    ('%%up\nwb.update_column("t", "k", elements=["x"])', ["up"]),  # MF104
    ('%%up\nwb.add_index("t", "uniq_u", "unique", ["u"])', ["up"]),  # MF101
    ('%%up\nwb.delete_table("dropme")', ["up"]),  # DS101
    (f'%%up\nwb.create_table("wide", columns=[{WIDE!r}])', ["up"]),  # LM103: 59069 bytes
]


SCHEMA_DELAY = 0.0  # these tests are about schemas, not about waiting for builds


def workspace(root: Path) -> CliWorkspace:
    ws = CliWorkspace(root)
    root.mkdir()
    assert ws.run("init").code == 0
    create(Workspace(root), "first", cells={"up": FIRST_UP, "down": FIRST_DOWN})
    path = create(
        Workspace(root), "second", cells={"up": SECOND_UP[0][0], "down": "%%down\nwb.plan"}
    )
    nb = json.loads(path.read_text())
    nb["cells"][5]["metadata"]["tags"] = SECOND_UP[0][1]
    for offset, (source, tags) in enumerate(SECOND_UP[1:], 6):
        cell = {"cell_type": "code", "execution_count": None, "outputs": [], "id": f"lint{offset}"}
        nb["cells"].insert(offset, {**cell, "metadata": {"tags": tags}, "source": source})
    path.write_text(json.dumps(nb, indent=1))
    assert ws.run("hash").code == 0
    return ws


def live_rows(server: Any) -> None:
    """The environment as 001 left it, with rows each may-fail change of 002 fails on."""
    tables = tables_for(server)
    tables.create("main", "Main")
    ops = Ops(tables, "main", poll_interval=0.02, timeout=20)
    ops.create_table("t", "T", columns=COLUMNS)
    ops.create_table("dropme")
    tables.create_row("main", "t", "r1", {"k": "y", "u": "dup"})  # a null a; k uses y
    tables.create_row("main", "t", "r2", {"a": "x" * 40, "k": "x", "u": "dup"})  # long; dup
    tables.create_row("main", "t", "r3", {"a": "fine", "k": "x", "u": "solo"})


def test_lint_attributes_each_code_to_its_cell_and_checks_live_rows(
    tmp_path: Path, server: Any
) -> None:
    ws = workspace(tmp_path / "repo")
    live_rows(server)
    add_environment(ws, server)

    linted = ws.run("lint", "--migration", "002", "--env", "test", "--json")
    assert linted.code == 1, linted.output  # DS101 unacknowledged; rows fail MF101-104
    found = {(f["code"], f["target"]): f for f in json.loads(linted.stdout)}
    cells = {key: f["cell"].split(" ", 1)[0] for key, f in found.items()}
    assert cells == {
        ("DS102", "t.gone"): "cells[5]",
        ("MF102", "t.a"): "cells[6]",
        ("MF103", "t.a"): "cells[6]",
        ("MF104", "t.k"): "cells[7]",
        ("MF101", "t.uniq_u"): "cells[8]",
        ("DS101", "dropme"): "cells[9]",
        ("LM103", "wide"): "cells[10]",
    }
    assert found[("MF102", "t.a")]["cell"] == (
        'cells[6] wb.update_column("t", "a", size=20, required=True)'
    )
    gone = found[("DS102", "t.gone")]
    assert gone["cell"] == 'cells[5] [allow:DS102] wb.delete_column("t", "gone")'
    assert gone["acknowledged"] and not gone["fails"]
    assert found[("DS101", "dropme")]["fails"]
    for code, target in (
        ("MF102", "t.a"),
        ("MF103", "t.a"),
        ("MF104", "t.k"),
        ("MF101", "t.uniq_u"),
    ):
        finding = found[(code, target)]
        assert finding["live"] == "1 row(s) of 'test' fail it" and finding["fails"], finding

    plain = ws.run("lint", "--migration", "002")  # no environment: the replay is cached
    assert plain.code == 1, plain.output
    assert 'DS101 002_second dropme (cells[9] wb.delete_table("dropme"))' in plain.stdout
    assert "DS102 (allowed)" in plain.stdout and "row(s)" not in plain.stdout

    assert ws.run("stamp", "001", "--env", "test").code == 0
    dry = ws.run("up", "--env", "test", "--dry-run")
    assert dry.code == 0, dry.output
    plan, lint = dry.stdout.split("plan:", 1)[1], dry.stdout.split("MF102", 1)
    assert "delete_table" in plan and len(lint) == 2
    assert "t.a (cells[6]" in lint[1] and "1 row(s) of 'test' fail it" in lint[1]

    # down: 001's down cells replayed after it (once: cached), each change named by its cell
    first = load_catalog(ws.root / "migrations")[0]
    for _ in range(2):
        down = for_plan(Workspace(ws.root), None, [first], "down")["001"]
        assert {(f.code, f.target, f.cell) for f in down} == {
            ("DS101", "dropme", 'cells[7] wb.delete_table("dropme")'),
            ("DS101", "t", "down cells"),  # what the down cells leave undone
        }
