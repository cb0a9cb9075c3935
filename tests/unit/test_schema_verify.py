"""``migrations/workbook.sum`` and ``workbook verify``, in-process against the real local
server: each finding made to happen, and two git branches that each add a migration
conflict in the integrity file (real git)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_inproc import add_environment, new_workspace

from workbook.core.integrity import SUM_FILE, check_sum, write_sum


def findings(ws, env: str = "test") -> tuple[int, dict[str, list[str]]]:  # noqa: ANN001
    result = ws.run("verify", "--env", env, "--json")
    assert "Traceback" not in result.output, result.output
    data = json.loads(result.stdout)
    found: dict[str, list[str]] = {}
    for f in data["findings"]:
        found.setdefault(f["code"], []).append(f["version"])
    return result.code, found


def test_verify_reports_each_finding_and_exits_1(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    database_id: str,
) -> None:
    ws = new_workspace(tmp_path)
    migrations = ws.root / "migrations"
    write_sum(migrations)
    add_environment(ws, local_server, database=database_id)
    clean = ws.run("verify", "--env", "test")
    assert clean.code == 0 and "3 migration(s), workbook.sum and the ledger" in clean.stdout

    assert ws.run("stamp", "003", "--env", "test").code == 0
    assert ws.run("resolve", "002", "--rolled-back", "--env", "test").code == 0
    first = migrations / "001_initial_schema.ipynb"
    nb = json.loads(first.read_text())
    up = next(c for c in nb["cells"] if "up" in c["metadata"].get("tags", []))
    up["source"] = "%%up\nwb.create_table('other')\n"
    first.write_text(json.dumps(nb))
    (migrations / "003_rename_author.ipynb").unlink()
    shutil.copy(migrations / "002_add_blog_views.ipynb", migrations / "002_copy.ipynb")

    code, found = findings(ws)
    assert code == 1
    assert found == {
        "duplicate-version": ["002"],
        "sum-outdated": [""],
        "modified-after-apply": ["001"],
        "applied-without-file": ["003"],
        "out-of-order": ["002"],
    }
    text = ws.run("verify", "--env", "test")
    assert text.code == 1 and "Traceback" not in text.output
    assert "sum-outdated migrations/workbook.sum is out of date" in text.stdout
    assert len([line for line in text.stdout.splitlines() if line.strip()]) == 5

    (migrations / SUM_FILE).unlink()
    assert findings(ws)[1]["sum-missing"] == [""]
    assert ws.run("hash").code == 0 and check_sum(migrations) is None


def test_create_writes_the_sum_and_an_edit_outdates_it(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    migrations = ws.root / "migrations"
    assert ws.run("create", "--name", "add_a").code == 0
    assert check_sum(migrations) is None
    lines = (migrations / SUM_FILE).read_text().splitlines()
    assert lines[-1].startswith("004_add_a.ipynb h1:") and len(lines) == 6
    third = migrations / "003_rename_author.ipynb"
    third.write_text(third.read_text().replace("wb.done()", "wb.done()  # edited"))
    problem = check_sum(migrations)
    assert problem is not None and "changed since it was written: 003_rename_author" in (
        problem.message
    )


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(root),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=check
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_two_branches_that_each_add_a_migration_conflict_in_the_sum(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    root = ws.root
    write_sum(root / "migrations")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "alice")
    assert ws.run("create", "--name", "add_a").code == 0
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "a")
    git(root, "checkout", "-q", "main")
    git(root, "checkout", "-q", "-b", "bob")
    assert ws.run("create", "--name", "add_b").code == 0
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "b")
    merged = git(root, "merge", "alice", check=False)
    assert merged.returncode != 0
    assert "CONFLICT (content): Merge conflict in migrations/workbook.sum" in merged.stdout
    problem = check_sum(root / "migrations")
    assert problem is not None and "merge conflict markers" in problem.message


def test_verify_finds_drift_against_the_recorded_marker(
    tmp_path: Path,
    local_server,  # noqa: ANN001
    tables,  # noqa: ANN001
    database_id: str,
) -> None:
    ws = new_workspace(tmp_path)
    write_sum(ws.root / "migrations")
    add_environment(ws, local_server, database=database_id)
    tables.create_table(database_id, "blog_posts", "Blog posts")
    assert ws.run("stamp", "003", "--env", "test").code == 0  # records the live marker
    clean = ws.run("verify", "--env", "test")
    assert clean.code == 0, clean.output
    tables.create_table(database_id, "sneaky", "Made behind Workbook's back")
    code, found = findings(ws)
    assert code == 1 and found == {"drift": ["003"]}
    text = ws.run("verify", "--env", "test").stdout
    assert "drift the schema of 'test' changed since run" in text and "workbook diff" in text
