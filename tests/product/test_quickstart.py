"""The README's quick start on a fresh clone, and `workbook local serve`."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cli_support import REPO


def quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the quick start has a bash block"
    return [line.split("#")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_readme_quick_start_is_exactly_two_commands() -> None:
    assert quick_start_commands() == ["./dev up", "./dev test"]
    ci = (REPO / ".ci/run").read_text()
    assert "./dev test" in ci  # CI runs the README's test command


def test_first_command_migrates_local_on_a_fresh_clone(tmp_path: Path) -> None:
    """`./dev up` on a clone of the committed tree. The clone borrows this checkout's
    virtualenv (CI builds it with `./dev test` moments earlier) instead of installing
    everything again."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    stamp = REPO / ".venv/.installed"
    fingerprint = hashlib.sha256((clone / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.is_file() or stamp.read_text().strip() != fingerprint:
        # `./dev` would reinstall into the borrowed virtualenv and re-point it at the clone
        pytest.skip("the virtualenv was not set up by ./dev for this pyproject.toml")
    (clone / ".venv").symlink_to(REPO / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env["WORKBOOK_USER"] = "newcomer"
    command = quick_start_commands()[0].split()
    proc = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("applied in") == 3
    assert len(list((clone / "history/local").glob("*.ipynb"))) == 3
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
    ).stdout
    assert [li for li in dirty.splitlines() if not li.endswith(".venv")] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db: Path, port: int, key: str) -> subprocess.Popen[str]:
    env = {**os.environ, "WORKBOOK_LOCAL_KEY": key}
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", "local", "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(endpoint: str) -> None:
    for _ in range(200):
        try:
            if requests.get(f"{endpoint}/health/version", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError("the server did not start")


def test_local_serve_binds_loopback_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    from appwrite.client import Client
    from appwrite.services.tables_db import TablesDB

    db, port, key = tmp_path / "dev.db", _free_port(), "k" * 40
    endpoint = f"http://127.0.0.1:{port}/v1"
    proc = _serve(db, port, key)
    try:
        _wait(endpoint)
        tables = TablesDB(
            Client().set_endpoint(endpoint).set_project("workbook-local").set_key(key)
        )
        tables.create("shop", "Shop")
        tables.create_table(
            "shop",
            "items",
            "Items",
            columns=[{"key": "name", "type": "varchar", "size": 50, "required": True}],
        )
        tables.create_row("shop", "items", "one", {"name": "first"})
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0]
    assert key not in output
    assert f"127.0.0.1:{port}" in output
    proc = _serve(db, port, key)
    try:
        _wait(endpoint)
        row = TablesDB(
            Client().set_endpoint(endpoint).set_project("workbook-local").set_key(key)
        ).get_row("shop", "items", "one")
        assert row.data["name"] == "first"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
