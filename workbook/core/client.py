"""A connected Appwrite target: an SDK client for an environment, checked before use.

Foreign errors are translated here, at the boundary, into one-line messages that name the
next step (a 401 names the variable holding the refused key; an unreachable endpoint, a
silent one or a web page are named as such), and a failed step into an ``OperationFailed``
naming the step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from workbook.core.config import Environment, Workspace
from workbook.core.local_target import ensure_local_server
from workbook.core.paging import raw_get
from workbook.core.transport import RetryingClient, TransportFailure, network_failure
from workbook.errors import ConnectionFailed, OperationFailed
from workbook.settings import HTTP_TIMEOUT


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
    client = RetryingClient(timeout=env.bounds().http)
    client.set_endpoint(endpoint).set_project(env.project)
    client.set_key(key.reveal())
    if env.self_signed:
        client.set_self_signed(True)
    target = Target(env, client, endpoint)
    check_database(target, create=create_database or env.is_local)
    return target


def check_database(target: Target, *, create: bool) -> None:
    """Read the database as raw JSON: a typed model would hide an answer that is not
    Appwrite's (a web page, a proxy's login) behind a parse error."""
    env = target.environment
    try:
        body = raw_get(target.client, f"/tablesdb/{env.database}")
    except AppwriteException as exc:
        if exc.code == 404 and exc.type == "database_not_found" and create:
            _guard(target, lambda: target.tables.create(env.database, env.database))
            return
        raise translate(exc, target) from None
    if not (isinstance(body, dict) and "$id" in body):
        raise not_appwrite(target, body)


def _guard(target: Target, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except AppwriteException as exc:
        raise translate(exc, target) from None


ENDPOINT_HINT = "set endpoint to the API root, e.g. https://cloud.appwrite.io/v1"


def translate(exc: AppwriteException, target: Target) -> ConnectionFailed:
    """An SDK failure while connecting, as a message that says what to do next."""
    env = target.environment
    where = f"{target.endpoint} (environment '{env.name}')"
    if isinstance(exc, TransportFailure) and exc.timeout is not None:
        return ConnectionFailed(
            f"{where} did not answer within {exc.timeout:.3g} s",
            f"check the endpoint and your network, or raise http_timeout in workbook.toml "
            f"(or ${HTTP_TIMEOUT.name})",
        )
    if network_failure(exc):
        return ConnectionFailed(
            f"cannot reach {where}",
            "check the endpoint in workbook.toml and your network"
            if not env.is_local
            else "the local server stopped; run the command again",
        )
    if foreign_answer(exc) and exc.code < 500:
        return not_appwrite(target, exc.response)
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
    kind = f" {exc.type}" if exc.type else ""
    return ConnectionFailed(
        f"{where} answered {exc.code}{kind}: {one_line(exc)}", "see the Appwrite server's logs"
    )


def not_appwrite(target: Target, body: Any) -> ConnectionFailed:
    """The endpoint answered, but not as Appwrite: most often a web page, because the
    endpoint is the site's root or a proxy's login instead of the API root."""
    where = f"{target.endpoint} (environment '{target.environment.name}')"
    kind = describe(body)
    what = "JSON that is not Appwrite's" if kind == "JSON" else f"{kind}, not Appwrite's JSON"
    return ConnectionFailed(f"the server at {where} answered {what}", ENDPOINT_HINT)


def describe(body: Any) -> str:
    """What kind of answer a body is, in two or three words."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        if _looks_like_html(body):
            return "HTML"
        return "an empty body" if not body.strip() else "text"
    return "JSON"


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<") or "<html" in head


def foreign_answer(exc: AppwriteException) -> bool:
    """An HTTP error whose body was not Appwrite's JSON (the SDK then leaves ``type`` None)."""
    return bool(exc.code) and exc.type is None and not _is_json(exc.response)


def _is_json(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


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


def one_line(exc: Exception, limit: int = 300) -> str:
    """An error's message on one line (network errors arrive as multi-line reprs, and a
    proxy's error page would be a whole document); any exception with or without one."""
    if isinstance(exc, AppwriteException) and foreign_answer(exc):
        return f"HTTP {exc.code} with {describe(exc.response)}, not Appwrite's JSON"
    return " ".join(str(getattr(exc, "message", exc)).split())[:limit]


def is_gone(exc: AppwriteException) -> bool:
    """Appwrite said it is not there; a 404 page from something else is not that."""
    return exc.code == 404 and exc.type in GONE_TYPES and not foreign_answer(exc)


def hint_for(exc: AppwriteException) -> str | None:
    if exc.code == 401:
        return "the API key was refused or lacks a scope; check the key's scopes"
    if isinstance(exc, TransportFailure) and exc.timeout is not None:
        return f"raise http_timeout in workbook.toml (or ${HTTP_TIMEOUT.name}) if it needs longer"
    if isinstance(exc, TransportFailure):
        return "the target could not be reached or dropped the connection; check the network"
    if foreign_answer(exc) and exc.code < 500:
        return ENDPOINT_HINT
    return f"Appwrite error {exc.type}" if exc.type else None


def step_failed(what: str, exc: AppwriteException) -> OperationFailed:
    return OperationFailed(f"{what} failed: {one_line(exc)}", hint=hint_for(exc))
