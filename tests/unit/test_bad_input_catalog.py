"""A migration file that is not a notebook is refused by name before any run starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace, snapshot

from workbook.core.catalog import notebook_problem

BAD = "migrations/004_broken.ipynb"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


def notebook(cells: object, **extra: object) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **extra})


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[]", "a JSON array, not a notebook object"),
        ('{"a": 1}', "not nbformat 4"),
        ('"x"', "a JSON string"),
        ("null", "a JSON null"),
        ("5", "a JSON number"),
        ("{", "invalid JSON at line 1"),
        (notebook({}), "its cells are not a list"),
        (notebook("print(1)"), "its cells are not a list"),
        (notebook([5]), "cell 1 is not a notebook cell"),
        (notebook([{"cell_type": "code", "source": 5}]), "cell 1 is not a notebook cell"),
        (notebook([{"cell_type": "code", "source": ["a", 1]}]), "cell 1 is not a notebook cell"),
        (notebook([{"source": "", "metadata": []}]), "cell 1 has malformed metadata"),
        (
            notebook([{"source": "", "metadata": {"tags": "parameters"}}]),
            "cell 1 has malformed metadata",
        ),
        (json.dumps({"nbformat": 3, "worksheets": []}), "not nbformat 4"),
    ],
)
def test_json_that_is_not_a_notebook(ws: CliWorkspace, text: str, why: str) -> None:
    ws.write(BAD, text)
    before = snapshot(ws.root)
    assert_refused(
        ws.run("up"),
        f"migrations/004_broken.ipynb is not a valid notebook ({why}",
        "repair it, or remove it",
        unchanged=(ws.root, before),
    )


def test_a_truncated_migration(ws: CliWorkspace) -> None:
    whole = (ws.root / "migrations/002_add_blog_views.ipynb").read_text()
    ws.write(BAD, whole[: len(whole) // 2])
    assert_refused(ws.run("status"), "004_broken.ipynb is not a valid notebook (invalid JSON")


def test_bytes_that_are_not_text(ws: CliWorkspace) -> None:
    (ws.root / BAD).write_bytes(b"\xff\xfe\x00{")
    assert_refused(ws.run("status"), "004_broken.ipynb is not a valid notebook (not UTF-8 text)")


def test_the_repository_migrations_are_notebooks() -> None:
    for path in sorted((Path(__file__).parents[2] / "migrations").glob("*.ipynb")):
        assert notebook_problem(json.loads(path.read_text())) is None, path


def test_a_parameter_value_is_not_a_change_but_a_new_knob_is(tmp_path: Path) -> None:
    """An operator targets staging by editing the parameters cell in JupyterLab: that must
    not make an applied migration look modified; adding a knob does."""
    from workbook.core.catalog import read_migration

    source = REPO / "migrations" / "002_add_blog_views.ipynb"
    original = read_migration(source)
    nb = json.loads(source.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    text = "".join(cell["source"])
    cell["source"] = text.replace('environment = "local"', 'environment = "staging"')
    edited = tmp_path / source.name
    edited.write_text(json.dumps(nb), encoding="utf-8")
    assert read_migration(edited).checksum == original.checksum
    cell["source"] = text + "\nextra_knob = 1\n"
    edited.write_text(json.dumps(nb), encoding="utf-8")
    assert read_migration(edited).checksum != original.checksum
    assert original.matches(original.legacy_checksums[0])  # ledgers of Workbook 0.1
