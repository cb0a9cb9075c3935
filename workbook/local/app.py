"""The Starlette application, assembled explicitly: routes, error handlers, faults and the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workbook.local import legacy
from workbook.local.auth import is_admin
from workbook.local.errors import AppwriteError, appwrite_error
from workbook.local.faults import Faults, fault_error, monotonic
from workbook.local.http import (
    error_response,
    no_content,
    read_params,
    starlette_routes,
    unexpected,
)
from workbook.local.routes import ROUTES
from workbook.local.state import ServerState

ADMIN_PREFIX = "/_workbook"
HOLD_POLL = 0.05  # how often a held request looks whether the faults were cleared


def route_not_found() -> AppwriteError:
    return appwrite_error("general_route_not_found")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return error_response(route_not_found())
    return error_response(AppwriteError(exc.status_code, "general_unknown", str(exc.detail)))


async def _appwrite_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppwriteError)
    return error_response(exc)


async def _any_error(request: Request, exc: Exception) -> Response:
    return error_response(unexpected(exc))


def admin_routes(state: ServerState) -> list[Route]:
    """`/_workbook/...`: the request log and fault injection, for tests, behind the server key."""

    def guard(request: Request) -> None:
        if not is_admin(state, request.headers):
            raise AppwriteError(
                401,
                "user_unauthorized",
                "The current user is not authorized to perform the requested action.",
            )

    async def requests_log(request: Request) -> Response:
        guard(request)
        if request.method == "DELETE":
            state.log.clear()
            return no_content()
        return JSONResponse({"requests": state.log.entries()})

    async def faults(request: Request) -> Response:
        guard(request)
        if request.method == "DELETE":
            state.faults.clear()
            return no_content()
        return JSONResponse(state.faults.add(await read_params(request)), status_code=201)

    return [
        Route(ADMIN_PREFIX + "/requests", requests_log, methods=["GET", "DELETE"]),
        Route(ADMIN_PREFIX + "/faults", faults, methods=["POST", "DELETE"]),
    ]


class FaultsAndLog:
    """Outermost ASGI layer: fires injected faults and records every API request.

    It sits outside Starlette so it gets uvicorn's own `send`, whose protocol object owns the
    transport: that is how 'reset' and 'lost_answer' drop the connection without an answer.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        started, clock = time.time(), monotonic()
        status = 0
        fired: str | None = None

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def unanswered(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        try:
            for fault in self.state.faults.take_request(method, path):
                if fault.kind == "latency":
                    await asyncio.sleep(fault.seconds)
                    continue
                fired = fault.kind
                if fault.kind == "reset":
                    _drop_connection(send)
                    return
                if fault.kind == "lost_answer":
                    # the handler runs and commits; only its answer is lost on the way back
                    await self.app(scope, receive, unanswered)
                    _drop_connection(send)
                    return
                if fault.kind == "hang":
                    held = await _hold(receive, self.state.faults, fault.hold_seconds)
                    if held is None:
                        _drop_connection(send)
                        return
                    receive = held
                    break
                await error_response(fault_error(fault))(scope, receive, recording_send)
                return
            await self.app(scope, receive, recording_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            self.state.log.add(method, path, query, status, started, monotonic() - clock, fired)


async def _hold(receive: Receive, faults: Faults, limit: float) -> Receive | None:
    """Keep a request unanswered until its client leaves, the faults are cleared, or ``limit``.

    Returns a ``receive`` that replays the request body when the faults were cleared (the
    request then goes on as if the server had only been slow); None when the client left or
    the limit passed, and the connection should be dropped.
    """
    generation = faults.generation
    body: list[Message] = []
    deadline = monotonic() + limit
    pending: asyncio.Future[Message] = asyncio.ensure_future(receive())
    try:
        while monotonic() < deadline:
            done, _ = await asyncio.wait({pending}, timeout=HOLD_POLL)
            if pending in done:
                message = pending.result()
                if message["type"] == "http.disconnect":
                    return None
                body.append(message)
                pending = asyncio.ensure_future(receive())
            elif faults.generation != generation:
                return _replaying(body, receive)
        return None
    finally:
        pending.cancel()


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that first hands back the body messages a held request already read."""
    queue = list(messages)

    async def replay() -> Message:
        return queue.pop(0) if queue else await receive()

    return replay


class _QuietDroppedConnections(logging.Filter):
    """uvicorn reports a deliberately dropped connection as an error; a fault's drop is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without starting response" not in record.getMessage()


_QUIET = _QuietDroppedConnections()


def _drop_connection(send: Send) -> None:
    """Close the client's TCP connection with a reset (SO_LINGER 0), answering nothing."""
    protocol: Any = getattr(send, "__self__", None)
    transport = getattr(protocol, "transport", None)
    if transport is None:
        raise RuntimeError("cannot reach the connection's transport to drop it")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    logger = logging.getLogger("uvicorn.error")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
    transport.abort()


def build_app(state: ServerState, extra_routes: list[Route] | None = None) -> ASGIApp:
    """The whole server: TablesDB routes (+ any extra, e.g. legacy) behind faults and the log."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.store.close()

    app = Starlette(
        routes=[
            *starlette_routes(state, ROUTES),
            *legacy.routes(state),
            *(extra_routes or []),
            *admin_routes(state),
        ],
        exception_handlers={
            HTTPException: _http_error,
            AppwriteError: _appwrite_error,
            Exception: _any_error,
        },
        lifespan=lifespan,
    )
    return FaultsAndLog(app, state)
