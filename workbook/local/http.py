"""The HTTP edge: parameters in (query string or JSON body), Appwrite-shaped responses out.

Handlers are plain functions `(state, ApiRequest) -> Reply` so other route sets (the legacy
`/v1/databases` API) can wrap them; `starlette_routes` turns a table of `ApiRoute`s into
Starlette routes that authorize, parse, run the handler in a worker thread, and answer.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workbook.local.auth import authorize
from workbook.local.errors import AppwriteError
from workbook.local.state import ServerState

log = logging.getLogger("workbook.local")

# Appwrite's HTTP server refuses bodies over 12 MB (`package_max_length` in app/http.php).
MAX_BODY = 12 * 1024 * 1024
_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass
class ApiRequest:
    method: str
    path: Mapping[str, str]
    params: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None


Handler = Callable[[ServerState, ApiRequest], Reply]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    handler: Handler
    scopes: tuple[str, ...]


def no_content() -> Response:
    """A 204 the SDK accepts: no body, but a non-JSON Content-Type (it reads the header)."""
    return Response(status_code=204, content=b"", media_type="text/html; charset=UTF-8")


# Starlette's JSONResponse settings, with the encoder built once instead of per response.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode("utf-8")


def error_response(error: AppwriteError) -> JSONResponse:
    return FastJSONResponse(error.body(), status_code=error.code)


def reply_response(reply: Reply) -> Response:
    if reply.status == 204:
        return no_content()
    return FastJSONResponse(reply.body, status_code=reply.status)


def too_large() -> AppwriteError:
    return AppwriteError(
        413,
        "general_argument_invalid",
        f"Request body is too large: the limit is {MAX_BODY // (1024 * 1024)} MB.",
    )


def _listify(value: Any) -> Any:
    """Turn `{"0": a, "1": b}` (from `x[0]=a&x[1]=b`) into `[a, b]`, recursively."""
    if isinstance(value, dict):
        value = {k: _listify(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


def query_params(items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The SDK flattens GET parameters as `queries[0]=…`; rebuild lists and objects."""
    result: dict[str, Any] = {}
    for raw_key, value in items:
        head = raw_key.split("[", 1)[0]
        parts = _BRACKETS.findall(raw_key[len(head) :])
        if not parts:
            result[head] = value
            continue
        node = result.setdefault(head, {})
        if not isinstance(node, dict):
            node = result[head] = {}
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return {k: _listify(v) for k, v in result.items()}


async def read_params(request: Request) -> dict[str, Any]:
    """Query-string parameters merged with the JSON body (DELETE carries one too)."""
    params = query_params(request.query_params.multi_items())
    if request.method in ("GET", "HEAD"):
        return params
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return params
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        from urllib.parse import parse_qsl

        params.update(
            query_params(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        )
        return params
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AppwriteError(
            400,
            "general_argument_invalid",
            "Invalid JSON body: the request body could not be parsed.",
        ) from None
    if not isinstance(body, dict):
        raise AppwriteError(
            400, "general_argument_invalid", "Invalid JSON body: expected a JSON object."
        )
    params.update(body)
    return params


def unexpected(exc: BaseException) -> AppwriteError:
    """Log a bug with its traceback (never to the client) and answer Appwrite's 500."""
    log.error("unexpected error in the local server", exc_info=exc)
    return AppwriteError(500, "general_unknown", "Server Error")


def endpoint(state: ServerState, route: ApiRoute) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        try:
            authorize(state, request.headers, route.scopes, request.url.hostname or "localhost")
            params = await read_params(request)
            api_request = ApiRequest(
                method=request.method,
                path=dict(request.path_params),
                params=params,
                headers=request.headers,
            )
            reply = await run_in_threadpool(route.handler, state, api_request)
        except AppwriteError as error:
            return error_response(error)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                return error_response(unexpected(exc))
            return error_response(
                AppwriteError(408, "database_timeout", "Database timed out. Try again later.")
            )
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            return error_response(unexpected(exc))
        return reply_response(reply)

    handle.__name__ = f"{route.method.lower()}_{route.handler.__name__}"
    return handle


def starlette_routes(state: ServerState, routes: Sequence[ApiRoute]) -> list[Route]:
    return [Route(route.path, endpoint(state, route), methods=[route.method]) for route in routes]
