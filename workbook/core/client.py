"""A connected Appwrite target: an SDK client for an environment, checked before use.

Foreign errors are translated here, at the boundary, into one-line messages that name the
next step (a 401 names the variable holding the refused key; an unreachable endpoint is
named as such). For ``local`` this is also where the embedded server is found or started.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from workbook.core.config import Environment, Workspace
from workbook.errors import ConnectionFailed, OperationFailed
from workbook.secrets import Secret
from workbook.settings import LOCAL_ENDPOINT, LOCAL_KEY, scoped_environ

# Errors worth another try: the request was refused before doing anything, or the
# network dropped it. Writes are retried too: every Workbook write names its ids, so a
# retried create answers 409 instead of creating twice.
RETRY_CODES = {429, 502, 503, 504}
RETRY_WAITS = (0.25, 0.5, 1.0, 2.0, 4.0)
NETWORK_TRIES = 3


class RetryingClient(Client):
    """The official client, retrying throttled and dropped requests with backoff."""

    def __init__(self, waits: tuple[float, ...] = RETRY_WAITS) -> None:
        super().__init__()
        self._waits = waits

    def call(
        self,
        method: str,
        path: str = "",
        headers: Any = None,
        params: Any = None,
        response_type: str = "json",
    ) -> Any:
        attempt = 0
        while True:
            try:
                return super().call(method, path, headers, params, response_type)
            except AppwriteException as exc:
                # a dropped connection gets fewer tries than an explicit "slow down"
                tries = len(self._waits) if exc.code in RETRY_CODES else NETWORK_TRIES
                if attempt >= tries or not (exc.code in RETRY_CODES or network_failure(exc)):
                    raise
                time.sleep(self._waits[attempt])
                attempt += 1


def network_failure(exc: AppwriteException) -> bool:
    """The SDK wraps transport errors (refused, reset, timeout) with no HTTP status."""
    return not exc.code


@dataclass
class Target:
    """What a run talks to: the environment, its client and the TablesDB service."""

    environment: Environment
    client: Client
    endpoint: str

    @property
    def tables(self) -> TablesDB:
        return TablesDB(self.client)


def connect_target(
    workspace: Workspace,
    env: Environment,
    *,
    create_database: bool = False,
    on_local_start: Callable[[str], None] | None = None,
) -> Target:
    """A client for ``env`` whose key and database were checked with one request each."""
    if env.is_local:
        endpoint, key = ensure_local_server(workspace)
    else:
        assert env.endpoint is not None
        endpoint, key = env.endpoint, env.key()
    client = RetryingClient().set_endpoint(endpoint).set_project(env.project)
    client.set_key(key.reveal())
    if env.self_signed:
        client.set_self_signed(True)
    target = Target(env, client, endpoint)
    check_database(target, create=create_database or env.is_local)
    return target


def check_database(target: Target, *, create: bool) -> None:
    env = target.environment
    try:
        target.tables.get(env.database)
        return
    except AppwriteException as exc:
        if exc.code == 404 and exc.type == "database_not_found" and create:
            _guard(target, lambda: target.tables.create(env.database, env.database))
            return
        raise translate(exc, target) from None


def _guard(target: Target, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except AppwriteException as exc:
        raise translate(exc, target) from None


def translate(exc: AppwriteException, target: Target) -> ConnectionFailed:
    """An SDK failure while connecting, as a message that says what to do next."""
    env = target.environment
    where = f"{target.endpoint} (environment '{env.name}')"
    if network_failure(exc):
        return ConnectionFailed(
            f"cannot reach {where}",
            "check the endpoint in workbook.toml and your network"
            if not env.is_local
            else "the local server stopped; run the command again",
        )
    if exc.code == 401:
        return ConnectionFailed(
            f"the key in ${env.key_env} was refused by {where}: {exc.type}",
            "check that the key belongs to project "
            f"'{env.project}' and has the databases/tables/columns/indexes/rows scopes",
        )
    if exc.code == 404 and exc.type == "project_not_found":
        return ConnectionFailed(
            f"project '{env.project}' does not exist at {where}", "fix `project` in workbook.toml"
        )
    if exc.code == 404 and exc.type == "database_not_found":
        return ConnectionFailed(
            f"database '{env.database}' does not exist in project '{env.project}' at {where}",
            "create it in the Appwrite console, or fix `database` in workbook.toml",
        )
    return ConnectionFailed(
        f"{where} answered {exc.code} {exc.type}: {exc.message}", "see the Appwrite server's logs"
    )


def ensure_local_server(workspace: Workspace) -> tuple[str, Secret]:
    """The embedded server for this workspace: the one the runner started, or a new one.

    The runner publishes its server through two variables that kernels inherit; a kernel
    started any other way (plain papermill, JupyterLab) starts its own server in-process
    on the same SQLite file, which lives as long as the kernel.
    """
    from workbook.local.server import start_local_server  # the server is optional at import

    endpoint = os.environ.get(LOCAL_ENDPOINT.name)
    key = os.environ.get(LOCAL_KEY.name)
    if endpoint and key and _answers(endpoint):
        return endpoint, Secret(key)
    key = key or secrets.token_hex(32)
    server = start_local_server(local_database_path(workspace), api_key=key, mode="thread")
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


# -- errors of a step, translated at the boundary ---------------------------------------

# 404 types meaning "it is not there": a delete of something gone is done, a read is None
GONE_TYPES = {
    None,
    "",
    "table_not_found",
    "collection_not_found",
    "column_not_found",
    "attribute_not_found",
    "column_index_not_found",
    "index_not_found",
    "row_not_found",
}


def one_line(exc: AppwriteException) -> str:
    """The server's message on one line (network errors arrive as multi-line reprs)."""
    return " ".join(str(exc.message).split())


def is_gone(exc: AppwriteException) -> bool:
    return exc.code == 404 and exc.type in GONE_TYPES


def hint_for(exc: AppwriteException) -> str | None:
    if exc.code == 401:
        return "the API key was refused or lacks a scope; check the key's scopes"
    return f"Appwrite error {exc.type}" if exc.type else None


def step_failed(what: str, exc: AppwriteException) -> OperationFailed:
    return OperationFailed(f"{what} failed: {one_line(exc)}", hint=hint_for(exc))
