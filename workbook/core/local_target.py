"""The ``local`` environment's server: the one the runner started, or one started here.

A kernel started by ``workbook up`` finds the runner's server through two variables it
inherits; any other kernel (JupyterLab, plain papermill) starts its own, in-process, on
the workspace's SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from workbook.core.config import Workspace
from workbook.errors import ConnectionFailed
from workbook.secrets import Secret
from workbook.settings import LOCAL_ENDPOINT, LOCAL_KEY, scoped_environ


def ensure_local_server(workspace: Workspace) -> tuple[str, Secret]:
    """The embedded server for this workspace: the one the runner started, or a new one.

    The runner publishes its server through two variables that kernels inherit; a kernel
    started any other way (plain papermill, JupyterLab) starts its own server in-process
    on the same SQLite file, which lives as long as the kernel.
    """
    from workbook.local.server import LocalServerError, start_local_server  # loaded on use

    endpoint = os.environ.get(LOCAL_ENDPOINT.name)
    key = os.environ.get(LOCAL_KEY.name)
    if endpoint and key and _answers(endpoint):
        return endpoint, Secret(key)
    key = key or secrets.token_hex(32)
    try:
        server = start_local_server(local_database_path(workspace), api_key=key, mode="thread")
    except LocalServerError as exc:
        raise ConnectionFailed(
            f"the local environment's server did not start: {exc.message}",
            exc.hint or "see `workbook local serve --help`",
        ) from None
    _KEEP_ALIVE.append(server)
    publish_local_server(server.endpoint, key)
    return server.endpoint, Secret(key)


_KEEP_ALIVE: list[Any] = []


@contextlib.contextmanager
def serving_local(workspace: Workspace) -> Iterator[None]:
    """Serve ``local`` for the duration of a command, then stop: nothing is left running."""
    started = len(_KEEP_ALIVE)
    # keep what the caller had: publishing the server below changes these variables
    with scoped_environ(
        {name: os.environ.get(name) for name in (LOCAL_ENDPOINT.name, LOCAL_KEY.name)}
    ):
        try:
            ensure_local_server(workspace)
            yield
        finally:
            while len(_KEEP_ALIVE) > started:
                _KEEP_ALIVE.pop().stop()


def publish_local_server(endpoint: str, key: str) -> None:
    """Let child processes (papermill kernels) find the server without a file on disk."""
    os.environ[LOCAL_ENDPOINT.name] = endpoint
    os.environ[LOCAL_KEY.name] = key


def local_database_path(workspace: Workspace) -> Path:
    path = workspace.state / "local" / "appwrite.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _answers(endpoint: str) -> bool:
    try:
        return requests.get(f"{endpoint}/health/version", timeout=2).ok
    except requests.RequestException:
        return False
