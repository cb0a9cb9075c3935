"""The HTML review site: each run's page opens with its header (status, environment,
migration, direction, who, when, duration, git commit, backup folder, parameters, error)
and a link back; the index's rows can be filtered by environment, migration and status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from appwrite.services.tables_db import TablesDB
from cli_inproc import add_environment, new_workspace

from workbook.core import archive
from workbook.runtime import session


def _archive(run_id: str, **facts: object) -> str:
    meta = {
        "run_id": run_id,
        "environment": "staging",
        "migration": "003_rename_author",
        "version": "003",
        "description": "Rename author",
        "direction": "up",
        "status": "failed",
        "dry_run": False,
        "operator": "ada",
        "started_at": "2026-01-02T10:00:00+00:00",
        "seconds": 12.25,
        "git_commit": "abc1234",
        "backup": "history/staging/backups/lock-before-003",
        "parameters": {"environment": "staging", "batch_size": 500, "run_id": run_id},
        "error": "cell 4, line 2 `rows[10]`: IndexError: list index out of range",
        **facts,
    }
    cell = {"cell_type": "code", "id": "c1", "metadata": {}, "source": "print(1)", "outputs": []}
    cell["execution_count"] = None
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"workbook": meta}, "cells": [cell]}
    return json.dumps(nb)


def test_a_run_page_has_its_header_and_the_index_filters(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path, folders=("migrations",))
    ws.write(
        "workbook.toml",
        '[environments.staging]\nendpoint = "https://x.example/v1"\nproject = "p"\nkey_env = "K"\n',
    )
    ws.write("history/staging/run1_rename_author.ipynb", _archive("run1"))
    ws.write(
        "history/local/run2_initial.ipynb",
        _archive(
            "run2", environment="local", status="applied", migration="001_initial", error=None
        ),
    )
    result = ws.run("history", "--html")
    assert result.code == 0, result.output

    page = (ws.root / "history/staging/run1_rename_author.html").read_text()
    header = page[page.index("wb-run-header") : page.index("</table>", page.index("wb-run-header"))]
    for shown in (
        "failed",
        "staging",
        "003 Rename author",
        "ada",
        "2026-01-02T10:00:00",
        "12.2 s",
        "abc1234",
        "history/staging/backups/lock-before-003",
        "batch_size=500",
        "IndexError: list index out of range",
    ):
        assert shown in header, shown
    assert "href='../index.html'" in header and "run_id=" not in header

    index = (ws.root / "history/index.html").read_text()
    assert "data-field='environment'" in index and "data-field='status'" in index
    assert "data-environment='staging'" in index and "data-status='applied'" in index
    assert "<option value='001_initial'>" in index


def _header(page: str) -> str:
    start = page.index("wb-run-header")
    return page[start : page.index("</table>", start)]


def test_a_run_the_kernel_archives_itself_shows_duration_backup_and_parameters(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    database_id: str,
    tables: TablesDB,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a JupyterLab run: the kernel, not the runner, writes the archive; the header must still
    # say how long it took, where its backup went and which parameters applied
    tables.create_table(database_id, "posts", "posts")
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, name="t", database=database_id)
    with (ws.root / "workbook.toml").open("a", encoding="utf-8") as f:
        f.write('backup = "all"\n')  # the whole database before the run starts
    assert ws.run("stamp", "001", "--env", "t").code == 0  # adopted: 002 may run next
    for name, value in ws.environ().items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(ws.root))
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    try:
        wb = session.connect("t", "002")
        wb.done()
    finally:
        if session._current is not None and not session._current.finished:
            session._current.fail("test ended")
        session._current = None

    facts = archive.facts_of(wb.archive_path) or {}
    assert facts["archived_by"] == "kernel" and facts["status"] == "applied"
    assert isinstance(facts["seconds"], float) and facts["seconds"] > 0
    backup = facts["backup"]
    assert backup.startswith("history/t/backups/") and (ws.root / backup).is_dir()
    assert facts["parameters"] == {
        "environment": "t",
        "direction": "up",
        "dry_run": False,
        "run_id": wb.run_id,
    }

    assert ws.run("history", "--html").code == 0
    page = wb.archive_path.with_suffix(".html").read_text()
    header = _header(page)
    assert f"{facts['seconds']:.1f} s" in header
    assert backup in header and "none recorded" not in header
    assert "environment=&#x27;t&#x27;, direction=&#x27;up&#x27;, dry_run=False" in header


def test_the_parameters_that_ran_are_the_kernels_values_in_the_cells_order(
    tmp_path: Path,
) -> None:
    # in JupyterLab the parameters cell ran in the kernel: its names hold what applied
    # (defaults, or papermill's injected values); connect's arguments win for its own
    import dataclasses

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from workbook.core.catalog import load_catalog

    [first, *_] = load_catalog(Path(__file__).resolve().parents[2] / "migrations")
    written = {"environment": '"local"', "batch_size": "100", "since": "None", "direction": '"up"'}
    migration = dataclasses.replace(first, parameters=written)
    quiet = Config({"HistoryManager": {"enabled": False}})  # writes nothing under ~
    shell = InteractiveShell.instance(config=quiet, ipython_dir=str(tmp_path))
    try:
        shell.user_ns.update(batch_size=500, since=Path("x"), environment="local")
        ran = session.parameters_that_ran(migration, environment="t", direction="down")
    finally:
        InteractiveShell.clear_instance()
    assert ran == {
        "environment": "t",
        "batch_size": 500,
        "since": repr(Path("x")),
        "direction": "down",
    }
    assert list(ran) == ["environment", "batch_size", "since", "direction"]
