"""The real ``workbook`` CLI run in-process, in a throwaway workspace: the fast test layer.

``tests/product/cli_support.py`` starts a Python process per command (about a second each);
this runs the same Typer app through ``typer.testing.CliRunner`` in milliseconds, which is
what tests of refusals and other notebook-free paths want. The command runs with the
workspace as its working directory and with an environment that holds only what the test
gives it: every ``WORKBOOK_*`` variable of the outer environment is removed for the call,
because settings read ``os.environ`` at call time and a stray ``WORKBOOK_ENV`` or
``WORKBOOK_WORKSPACE`` would silently change what a test checks.

A uniquely named module (like ``sdk_support``), importable from any test folder::

    from cli_inproc import CliWorkspace, assert_refused, new_workspace

    @pytest.fixture
    def ws(tmp_path: Path) -> CliWorkspace:
        return new_workspace(tmp_path)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from workbook.command.cli import app

REPO = Path(__file__).resolve().parents[1]
TEST_KEY_ENV = "TEST_APPWRITE_KEY"
BASE_ENV = {"WORKBOOK_USER": "test-operator", "COLUMNS": "200"}
MAX_REFUSAL_LINES = 3


@dataclass(frozen=True)
class Result:
    """What a user would see: the exit code and the two streams, apart."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class CliWorkspace:
    """A workspace folder and the variables its commands see (the test may change both)."""

    root: Path
    env: dict[str, str] = field(default_factory=lambda: dict(BASE_ENV))

    def run(self, *args: str, extra_env: Mapping[str, str] | None = None) -> Result:
        """``workbook ARGS`` as typed in the workspace folder, without a new process.

        An exception the CLI lets escape is shown on stderr as the traceback a real process
        would print, so "no traceback" assertions can fail.
        """
        runner = CliRunner()
        with contextlib.chdir(self.root):
            result = runner.invoke(
                app, list(args), env=self.environ(extra_env), prog_name="workbook"
            )
        stderr = result.stderr
        escaped = result.exception
        if escaped is not None and not isinstance(escaped, SystemExit):
            stderr += "".join(traceback.format_exception(escaped))
        return Result(result.exit_code, result.stdout, stderr)

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str | None]:
        """The call's variables: outer ``WORKBOOK_*`` (and the test key) unset, ours set."""
        unset: dict[str, str | None] = {
            name: None for name in os.environ if name.startswith("WORKBOOK_")
        }
        unset[TEST_KEY_ENV] = None
        return {**unset, **self.env, **(extra or {})}

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def new_workspace(
    tmp_path: Path, folders: tuple[str, ...] = ("migrations", "notebooks")
) -> CliWorkspace:
    """A copy of the repository's migrations, notebooks and workbook.toml under ``tmp_path``."""
    root = tmp_path / "ws"
    root.mkdir()
    for name in folders:
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workbook.toml", root / "workbook.toml")
    return CliWorkspace(root)


def add_environment(
    ws: CliWorkspace, server: object, name: str = "test", database: str = "main"
) -> None:
    """An environment ``name`` pointing at a running local server, its key in the env."""
    with (ws.root / "workbook.toml").open("a", encoding="utf-8") as f:
        f.write(
            f'\n[environments.{name}]\nendpoint = "{server.endpoint}"\n'  # type: ignore[attr-defined]
            f'project = "{server.project_id}"\ndatabase = "{database}"\n'  # type: ignore[attr-defined]
            f'key_env = "{TEST_KEY_ENV}"\n'
        )
    ws.env[TEST_KEY_ENV] = server.api_key  # type: ignore[attr-defined]


Snapshot = dict[str, tuple[str, int]]


def snapshot(root: Path) -> Snapshot:
    """Every file and folder under ``root`` with its content hash and mtime: proof that a
    refused command wrote, created, removed and touched nothing."""
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            found[rel + "/"] = ("dir", 0)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[rel] = (digest, path.stat().st_mtime_ns)
    return found


def assert_refused(
    result: Result, *needles: str, unchanged: tuple[Path, Snapshot] | None = None
) -> None:
    """The shape of every refusal: exit code 2, no traceback, at most three lines on stderr
    naming the problem (``needles``), and — given a ``(root, snapshot)`` — nothing changed."""
    assert result.code == 2, f"exit {result.code}\n{result.output}"
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= MAX_REFUSAL_LINES, result.stderr
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in:\n{result.stderr}"
    if unchanged is not None:
        root, before = unchanged
        assert snapshot(root) == before, "a refused command changed the workspace"
