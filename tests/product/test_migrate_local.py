"""The product end to end on the embedded `local` environment: real CLI, real kernels.

The operator's view (targets ``up --to``, ``--steps``, ``down --to`` in one command each,
and a dry run's plan in the terminal) shares the first test's workspace: one sequence of
migrations, every step asserted along the way."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
from cli_support import Workspace, outputs

from workbook.core.archive import DRY_RUN_SUFFIX


def archives(ws: Workspace, env: str = "local") -> list:
    """The archives of real runs (a dry run's archive is beside them, marked as one)."""
    found = (ws.root / "history" / env).glob("*.ipynb")
    return sorted(p for p in found if not p.name.endswith(f"{DRY_RUN_SUFFIX}.ipynb"))


def test_up_status_history_down_and_targets_on_a_fresh_workspace(workspace: Workspace) -> None:
    """One workspace walks the whole operator's view, each target in one command:
    ``up --to``, a dry run's plan, ``up --steps``, status/history, ``down``, ``down --to``;
    then the operator notebooks (status, history) run clean under nbval on what it left."""
    ws = workspace
    local_key = "local_" + "cd" * 30  # the local server's key, to prove it never leaks
    up = ws.run("up", "--to", "002", extra_env={"WORKBOOK_LOCAL_KEY": local_key})
    assert up.code == 0, up.output
    assert up.output.count("up: applied in") == 2 and "003" not in up.stdout
    assert up.stdout.count("  backup: history/local/backups/") == 1, up.stdout  # per sequence
    first = json.loads(archives(ws)[0].read_text())
    assert first["metadata"]["workbook"]["backup"].startswith("history/local/backups/")
    plan = ws.run("up", "--dry-run", "--steps", "1", extra_env={"COLUMNS": "160"})
    assert plan.code == 0, plan.output
    assert "003 Rename author to author name up: dry-run" in plan.stdout
    assert "plan: " in plan.stdout and "blog_posts" in plan.stdout, plan.stdout
    assert "backup:" not in plan.stdout
    step = ws.run("up", "--steps", "1")
    assert step.code == 0, step.output
    assert "003 Rename author to author name up: applied" in step.stdout

    status = ws.run("status")
    assert status.code == 0, status.output
    for version in ("001", "002", "003"):
        line = next(li for li in status.stdout.splitlines() if f" {version} " in li)
        assert "applied" in line and "test-operator" in line

    mirror = json.loads((ws.root / "history/local/applied.json").read_text())
    assert [a["version"] for a in mirror["applied"]] == ["001", "002", "003"]
    first = mirror["applied"][0]
    assert first["description"] == "Initial schema" and first["appliedBy"] == "test-operator"
    assert {"appliedAt", "checksum", "runId", "archive"} <= set(first)

    runs = archives(ws)
    assert len(runs) == 3 and [p.name.split("_", 1)[1] for p in runs] == [
        "initial_schema.ipynb",
        "add_blog_views.ipynb",
        "rename_author.ipynb",
    ]
    views = outputs(runs[1])
    assert "backfilled views on 3 row(s)" in views
    assert "skipped: down step (this run's direction is 'up')" in views
    assert "WORKBOOK · LOCAL" in views and "recorded as applied" in views
    meta = nbformat.read(runs[1], as_version=4).metadata["workbook"]
    assert meta["status"] == "applied" and meta["operator"] == "test-operator"
    assert meta["version"] == "002" and meta["direction"] == "up"

    history = ws.run("history")
    assert history.code == 0
    lines = [li for li in history.stdout.splitlines() if "local" in li]
    assert "rename_author" in lines[0] and "initial_schema" in lines[-1]  # newest first

    # Nothing left to do; a rollback out of order is refused; the latest one rolls back.
    again = ws.run("up")
    assert again.code == 0 and "nothing to do" in again.stdout
    refused = ws.run("down", "--migration", "001")
    assert refused.code == 2 and "while 002, 003 are applied" in refused.stderr
    down = ws.run("down")
    assert down.code == 0, down.output
    assert "003" in down.stdout and "down: applied" in down.stdout
    status = ws.run("status").stdout
    assert "pending" in next(li for li in status.splitlines() if " 003 " in li)
    down_archive = archives(ws)[-1]
    assert "skipped: up step (this run's direction is 'down')" in outputs(down_archive)
    assert ws.root.joinpath("history/local/backups").is_dir()
    # ...and applies again.
    assert ws.run("up", "--migration", "003").code == 0

    # down --to rolls back to a target in one command, newest first.
    down_to = ws.run("down", "--to", "001")
    assert down_to.code == 0, down_to.output
    rolled = [li for li in down_to.stdout.splitlines() if "down: applied" in li]
    assert [li.split()[1] for li in rolled] == ["003", "002"], down_to.stdout
    checked = ws.run("status", "--check")
    assert checked.code == 0, checked.output
    rows = {li.split()[1]: li for li in checked.stdout.splitlines() if li.startswith("│ 00")}
    assert "applied" in rows["001"]
    assert "pending" in rows["002"] and "rolled back at" in rows["002"]
    assert "pending" in rows["003"] and "rolled back at" in rows["003"]

    assert local_key not in ws.history_text()
    for result in (up, status, down):
        assert local_key not in (result if isinstance(result, str) else result.output)

    # The operator notebooks run clean under nbval on this workspace as it is now.
    as_json = json.loads(ws.run("status", "--json").stdout)
    states = {m["version"]: m["state"] for m in as_json["migrations"]}
    assert states == {"001": "applied", "002": "pending", "003": "pending"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "notebooks/status.ipynb",
            "notebooks/history.ipynb",
        ],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "passed" in proc.stdout


def test_failed_run_is_archived_recorded_and_blocks_what_follows(workspace: Workspace) -> None:
    ws = workspace
    for later in ("002_add_blog_views", "003_rename_author"):  # 001 is the one run before
        (ws.root / f"migrations/{later}.ipynb").unlink()
    assert ws.run("create", "--name", "explode").code == 0
    path = ws.root / "migrations/002_explode.ipynb"
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if c.source.startswith("%%up"))
    up_cell.source = "%%up\nraise RuntimeError('backfill hit a bad row')"
    nbformat.write(nb, path)
    ws.run("create", "--name", "after_explode")

    result = ws.run("up")
    assert result.code == 1
    assert "RuntimeError: backfill hit a bad row" in result.output
    assert "after_explode" not in result.stdout.split("failed:")[0].split("002")[-1]
    failed = archives(ws)[-1]
    assert failed.name.endswith("_explode.ipynb")
    assert "backfill hit a bad row" in outputs(failed)
    assert nbformat.read(failed, as_version=4).metadata["workbook"]["status"] == "failed"
    status = ws.run("status").stdout
    assert "failed" in next(li for li in status.splitlines() if " 002 " in li)
    assert "pending" in next(li for li in status.splitlines() if " 003 " in li)

    # Reviewers browse the record without Jupyter: an index and a page per run.
    site = ws.run("history", "--html")
    assert site.code == 0, site.output
    index = (ws.root / "history/index.html").read_text()
    assert index.count("<tr") == 1 + 2 and "002_explode" in index
    assert "RuntimeError: backfill hit a bad row" in index
    page = failed.with_suffix(".html").read_text()
    assert "backfill hit a bad row" in page and "WORKBOOK · LOCAL" in page


def test_plain_papermill_run_is_recorded_like_workbook_up(workspace: Workspace) -> None:
    ws = workspace
    (ws.root / "migrations/003_rename_author.ipynb").unlink()  # 002 is the one `up` continues with
    out = ws.root / "out.ipynb"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "migrations/001_initial_schema.ipynb",
            str(out),
            "-p",
            "environment",
            "local",
        ],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    status = ws.run("status").stdout
    assert "applied" in next(li for li in status.splitlines() if " 001 " in li)
    assert "pending" in next(li for li in status.splitlines() if " 002 " in li)
    # papermill's output is archived under history/local/, every cell (the last too)
    (first,) = archives(ws)
    facts = nbformat.read(first, as_version=4).metadata["workbook"]
    assert facts["status"] == "applied" and facts["operator"] == "test-operator"
    assert "001 up: recorded as applied on 'local'" in outputs(first)
    assert any(first.name in li for li in status.splitlines() if li.startswith("  001 "))
    up = ws.run("up")
    assert up.code == 0 and up.output.count("applied in") == 1

    # what a migration prints is redacted in the archive (not in papermill's own output)
    assert ws.run("create", "--name", "print_a_token").code == 0
    path = ws.root / "migrations/003_print_a_token.ipynb"
    nb = nbformat.read(path, as_version=4)
    next(
        c for c in nb.cells if c.source.startswith("%%up")
    ).source = '%%up\nimport os\nprint("token:", os.environ["DEMO_API_TOKEN"])'
    nbformat.write(nb, path)
    secret = "tok_" + "5f" * 20
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(path), str(out)],
        cwd=ws.root,
        env={**ws.env, "DEMO_API_TOKEN": secret},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    (fourth,) = [p for p in archives(ws) if p.name.endswith("_print_a_token.ipynb")]
    text = fourth.read_text(encoding="utf-8")
    assert "token: [redacted]" in text and secret not in text
    listed = ws.run("history", "--env", "local")
    assert "003_print_a_token" in listed.stdout


def test_a_kernel_stopping_before_done_leaves_a_failed_run_and_no_lock(
    workspace: Workspace,
) -> None:
    ws = workspace
    path = ws.root / "migrations/001_initial_schema.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.source.strip() != "wb.done()"]
    nbformat.write(nb, path)
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(path), str(ws.root / "out.ipynb")],
        cwd=ws.root,
        env=ws.env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    status = ws.run("status").stdout
    assert "failed" in next(li for li in status.splitlines() if " 001 " in li)
    assert "the kernel stopped before wb.done()" in status
    assert "no lock was held" in ws.run("unlock").stdout


def test_create_numbers_and_validates_the_new_notebook(workspace: Workspace) -> None:
    ws = workspace
    made = ws.run("create", "--name", "add_new_field")
    assert made.code == 0, made.output
    path = ws.root / "migrations/004_add_new_field.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].source.startswith("# 004 — Add new field")
    assert '"004", direction=direction' in "".join(c.source for c in nb.cells)
    dup = ws.run("create", "--name", "add_new_field")
    assert dup.code == 2 and "exists already" in dup.stderr
    bad = ws.run("create", "--name", "../evil")
    assert bad.code == 2 and "cannot be a migration name" in bad.stderr


def test_run_all_in_a_kernel_never_runs_down_cells(workspace: Workspace) -> None:
    """JupyterLab's "Run All" executes every cell in order with the defaults; nbclient
    does exactly that in a real kernel."""
    from nbclient import NotebookClient

    ws = workspace
    nb = nbformat.read(ws.root / "migrations/001_initial_schema.ipynb", as_version=4)
    import os

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(ws.env)
    try:
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(ws.root / "migrations")}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    text = "\n".join("".join(o.get("text", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "skipped: down step" in text
    assert ws.run("status").stdout.count("applied") >= 1
