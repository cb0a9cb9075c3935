"""Fixtures: a throwaway workspace (the repo's migrations copied), a controllable server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import REPO, TEST_KEY_ENV, Workspace

from workbook.settings import REPLAY_CACHE


@pytest.fixture(scope="session")
def replay_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replay cache for every workspace of the run (xdist workers included: the folder
    is beside theirs), as a CI job would keep it: the example migrations are replayed for
    the dry runs' lint once, not once per test."""
    return tmp_path_factory.getbasetemp().parent / "replay-cache"


@pytest.fixture
def workspace(tmp_path: Path, replay_cache: Path) -> Iterator[Workspace]:
    root = tmp_path / "ws"
    root.mkdir()
    for name in ("migrations", "notebooks"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workbook.toml", root / "workbook.toml")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_") and k != TEST_KEY_ENV
    }
    env.update({"WORKBOOK_USER": "test-operator", "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env[REPLAY_CACHE.name] = str(replay_cache)
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
