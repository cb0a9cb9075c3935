"""Fixtures: a throwaway workspace (the repo's migrations copied), a controllable server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import REPO, TEST_KEY_ENV, Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("migrations", "notebooks"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workbook.toml", root / "workbook.toml")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_") and k != TEST_KEY_ENV
    }
    env.update({"WORKBOOK_USER": "test-operator", "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    yield Workspace(root, env)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """A local server the test controls (request log, faults), reached as environment 'test'.
    Columns take a moment to build, as on Appwrite, unless the module sets SCHEMA_DELAY."""
    from workbook.local.server import start_local_server

    delay = getattr(request.module, "SCHEMA_DELAY", 0.02)
    srv = start_local_server(tmp_path / "server.db", schema_delay=delay)
    try:
        yield srv
    finally:
        srv.stop()
