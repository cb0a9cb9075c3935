"""A dry run sends no write; no key reaches history/ or the output."""

from __future__ import annotations

import nbformat
from cli_support import Workspace, add_environment, outputs
from sdk_support import tables_for


def test_dry_run_sends_no_write_request(workspace: Workspace, server) -> None:  # noqa: ANN001

    tables_for(server).create("main", "main")
    add_environment(workspace, server)
    server.clear_request_log()

    result = workspace.run("up", "--env", "test", "--dry-run")
    assert result.code == 0, result.output
    log = server.request_log()
    assert log, "the dry run read the live schema"
    writes = [r for r in log if r["method"].upper() != "GET"]
    assert writes == []

    runs = sorted((workspace.root / "history/test").glob("*.dry-run.ipynb"))
    assert len(runs) == 3
    plan = outputs(runs[0])
    assert "create_table" in plan and "blog_posts" in plan
    # Each plan starts from what the earlier ones would change: 003 renames a column of
    # the table 001 would create, with nothing assumed.
    rename = outputs(runs[2])
    assert "rename_column" in rename and "author_name" in rename and "assumes" not in rename
    meta = nbformat.read(runs[0], as_version=4).metadata["workbook"]
    assert meta["dry_run"] is True and meta["status"] == "dry-run"
    status = workspace.run("status", "--env", "test")
    assert status.stdout.count("pending") == 3


def test_key_never_written_or_printed(workspace: Workspace, server) -> None:  # noqa: ANN001
    add_environment(workspace, server)

    tables_for(server).create("main", "main")
    # 003's checklist has a manual step: confirmed on the command line, as an operator would
    results = [
        workspace.run("up", "--env", "test", "-p", "confirmed=app_release"),
        workspace.run("status", "--env", "test"),
        workspace.run("down", "--env", "test"),
        workspace.run("history"),
    ]
    assert all(r.code == 0 for r in results), [r.output for r in results]
    key = server.api_key
    assert key not in workspace.history_text()
    for r in results:
        assert key not in r.output
