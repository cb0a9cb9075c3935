"""The real CLI run as a process in a throwaway workspace, and helpers around it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

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

    def run(
        self, *args: str, extra_env: dict[str, str] | None = None, timeout: float = 240
    ) -> Result:
        """`workbook …` exactly as a user types it, in this workspace."""
        proc = subprocess.run(
            [sys.executable, "-m", "workbook", *args],
            cwd=self.root,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def history_text(self) -> str:
        """Every byte under history/, for leak checks."""
        parts = []
        for path in (self.root / "history").rglob("*"):
            if path.is_file():
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)


def add_environment(
    ws: Workspace, server: object, name: str = "test", database: str = "main"
) -> None:
    with (ws.root / "workbook.toml").open("a") as f:
        f.write(
            f'\n[environments.{name}]\nendpoint = "{server.endpoint}"\n'  # type: ignore[attr-defined]
            f'project = "{server.project_id}"\ndatabase = "{database}"\n'  # type: ignore[attr-defined]
            f'key_env = "{TEST_KEY_ENV}"\n'
        )
    ws.env[TEST_KEY_ENV] = server.api_key  # type: ignore[attr-defined]


def outputs(path: Path) -> str:
    """All text a notebook's cells printed or displayed (what a reviewer sees)."""
    nb = nbformat.read(path, as_version=4)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            data = out.get("data", {})
            texts.append(data.get("text/plain", ""))
            texts.append(data.get("text/html", ""))
            if out.get("output_type") == "error":
                texts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(t if isinstance(t, str) else "".join(t) for t in texts)
