"""Adoption verbs in-process: ``init`` (and its refusals), the baseline's generated cells,
``resolve`` appending ledger rows, and their bad input."""

from __future__ import annotations

import json
from pathlib import Path

from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused, new_workspace, snapshot

from workbook.command.generate import baseline_cells, column_spec
from workbook.core.catalog import load_catalog
from workbook.core.client import Target
from workbook.core.config import Environment, Workspace
from workbook.core.journal import Journal
from workbook.core.ledger import RunState
from workbook.core.schema import Schema


def test_init_writes_a_workspace_and_keeps_existing_gitignore_lines(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "notebooks" / "status.ipynb").write_text("{}", encoding="utf-8")  # theirs: kept
    (repo / ".gitignore").write_text("dist/\nhistory/local/", encoding="utf-8")
    ws = CliWorkspace(tmp_path)
    made = ws.run("init", "repo")
    assert made.code == 0, made.output
    assert (repo / "notebooks" / "status.ipynb").read_text() == "{}"
    lines = (repo / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["dist/", "history/local/"] and lines.count("history/local/") == 1
    assert {".workbook/", "history/*/backups/"} <= set(lines)
    assert "[environments.staging]" in (repo / "workbook.toml").read_text()
    created = CliWorkspace(repo).run("create", "--name", "first")
    assert created.code == 0 and (repo / "migrations/001_first.ipynb").is_file(), created.output


def test_init_refuses_an_existing_workspace_or_a_file(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    before = snapshot(ws.root)
    assert_refused(ws.run("init"), "workspace already", unchanged=(ws.root, before))
    ws.write("afile", "x")
    assert_refused(ws.run("init", "afile"), "is a file")


def test_baseline_cells_recreate_each_column_kind() -> None:
    stored = {"key": "email", "type": "string", "format": "email", "size": 254}
    assert column_spec("t", stored) == {"key": "email", "type": "email"}
    enum = {"key": "tier", "type": "string", "format": "enum", "elements": ["a"], "default": "a"}
    assert column_spec("t", enum) == {
        "key": "tier",
        "type": "enum",
        "elements": ["a"],
        "default": "a",
    }
    number = {"key": "n", "type": "double", "min": 0.0, "max": 1.0, "required": True}
    assert column_spec("t", number) == {
        "key": "n",
        "type": "float",
        "required": True,
        "min": 0.0,
        "max": 1.0,
    }
    schema = Schema("db", [{"$id": "a", "name": "A", "columns": [stored], "indexes": []}])
    up, down = baseline_cells(schema)
    assert up.startswith("%%up") and 'wb.create_table(\n    "a",\n    "A",' in up
    assert down.splitlines()[-3:] == [
        'wb.delete_table("a")',
        'wb.expect_table("a", exists=False)',
        "wb.plan",
    ]
    assert 'wb.expect_table("a", columns=["email"], indexes=[])' in up


def test_baseline_refuses_an_empty_database_and_relationships(tmp_path: Path) -> None:
    import pytest

    from workbook.errors import WorkbookError

    with pytest.raises(WorkbookError, match="nothing to baseline"):
        baseline_cells(Schema("db", []))
    with pytest.raises(WorkbookError, match="relationship"):
        column_spec("t", {"key": "r", "type": "relationship"})


def test_resolve_appends_rows_and_refuses_what_it_cannot_repair(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    tables: TablesDB,
    database_id: str,
) -> None:
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, database=database_id)
    env = Environment(
        name="test",
        project=local_server.project_id,
        database=database_id,
        key_env="T",
        endpoint=local_server.endpoint,
    )
    journal = Journal(Target(env, tables.client, local_server.endpoint), Workspace(ws.root))
    journal.ledger.ensure()
    first = load_catalog(ws.root / "migrations")[0]
    journal.acquire("lock-1")
    journal.open("run-1", lock_id="lock-1", migration=first, direction="up", archive_path=None)
    journal.finish("run-1", RunState.FAILED, error="boom")
    journal.release("lock-1")

    def states() -> dict[str, str]:
        out = ws.run("status", "--env", "test", "--json")
        assert out.code == 0, out.output
        return {r["version"]: r["state"] for r in json.loads(out.stdout)["migrations"]}

    assert states()["001"] == "failed"
    done = ws.run("resolve", "001", "--applied", "--env", "test")
    assert done.code == 0, done.output
    assert "resolved as applied" in done.stdout and "test-operator" in done.stdout
    assert states()["001"] in ("applied", "stamped")
    assert_refused(ws.run("resolve", "001", "--applied", "--env", "test"), "already")
    back = ws.run("resolve", "001", "--rolled-back", "--env", "test")
    assert back.code == 0 and states()["001"] == "pending", back.output
    runs = journal.ledger.runs()
    assert [r.state for r in runs] == [RunState.FAILED, RunState.STAMPED, RunState.STAMPED]
    assert runs[0].error == "boom"  # history is appended to, never edited

    assert_refused(ws.run("resolve", "001", "--env", "test"), "exactly one of")
    both = ws.run("resolve", "001", "--applied", "--rolled-back", "--env", "test")
    assert_refused(both, "exactly one of")
    assert_refused(ws.run("resolve", "099", "--applied", "--env", "test"), "no migration 099")
    assert_refused(ws.run("schema", "pull", "--env", "nope"), "unknown environment 'nope'")


def test_stamp_below_the_latest_applied_is_refused(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    database_id: str,
) -> None:
    ws = new_workspace(tmp_path)
    add_environment(ws, local_server, database=database_id)
    assert ws.run("stamp", "002", "--env", "test").code == 0
    before = snapshot(ws.root)
    refused = ws.run("stamp", "001", "--env", "test")
    assert_refused(refused, "001 is below 002, the latest applied", "down --to 001")
    assert snapshot(ws.root) == before
    assert_refused(ws.run("stamp", "042", "--env", "test"), "no migration '042'")


def test_diff_against_an_unknown_or_unreachable_environment(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    database_id: str,
) -> None:
    import socket

    ws = new_workspace(tmp_path, folders=("migrations",))
    add_environment(ws, local_server, database=database_id)
    unknown = ws.run("diff", "--env", "test", "--against", "nope")
    assert_refused(unknown, "unknown environment 'nope'")
    silent = socket.socket()  # accepts connections, never answers: only a timeout ends it
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        with (ws.root / "workbook.toml").open("a", encoding="utf-8") as f:
            for name, endpoint_port in (("gone", 9), ("mute", port)):
                f.write(
                    f'\n[environments.{name}]\nendpoint = "http://127.0.0.1:{endpoint_port}/v1"\n'
                    f'project = "p"\nkey_env = "GONE_KEY"\nhttp_timeout = 1\n'
                )
        ws.env["GONE_KEY"] = "x" * 20
        gone = ws.run("diff", "--env", "test", "--against", "gone")
        assert_refused(gone, "cannot reach http://127.0.0.1:9/v1")
        mute = ws.run("diff", "--env", "test", "--against", "mute", "--json")
        assert_refused(mute, f"127.0.0.1:{port}/v1 (environment 'mute') did not answer within 1 s")
        assert mute.stdout == ""
    finally:
        silent.close()
