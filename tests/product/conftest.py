"""A throwaway workspace (the repo's migrations copied), and the real CLI run as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_KEY_ENV = "TEST_APPWRITE_KEY"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]

    def run(self, *args: str, extra_env: dict[str, str] | None = None,
            timeout: float = 240) -> Result:
        """`workbook …` exactly as a user types it, in this workspace."""
        proc = subprocess.run([sys.executable, "-m", "workbook.cli", *args], cwd=self.root,
                              env={**self.env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def history_text(self) -> str:
        """Every byte under history/, for leak checks."""
        parts = []
        for path in (self.root / "history").rglob("*"):
            if path.is_file():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("migrations", "notebooks"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workbook.toml", root / "workbook.toml")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WORKBOOK_") and k != TEST_KEY_ENV}
    env.update({"WORKBOOK_USER": "test-operator", "PYTHONUNBUFFERED": "1",
                "COLUMNS": "200"})
    yield Workspace(root, env)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    """A local server the test controls (request log, faults), reached as environment 'test'."""
    from workbook.local.server import start_local_server

    srv = start_local_server(tmp_path / "server.db", schema_delay=0.02)
    try:
        yield srv
    finally:
        srv.stop()


def add_environment(ws: Workspace, server: object, name: str = "test",
                    database: str = "main") -> None:
    with (ws.root / "workbook.toml").open("a") as f:
        f.write(f'\n[environments.{name}]\nendpoint = "{server.endpoint}"\n'  # type: ignore[attr-defined]
                f'project = "{server.project_id}"\ndatabase = "{database}"\n'  # type: ignore[attr-defined]
                f'key_env = "{TEST_KEY_ENV}"\n')
    ws.env[TEST_KEY_ENV] = server.api_key  # type: ignore[attr-defined]
