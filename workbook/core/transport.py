"""How every request to Appwrite travels: the official SDK's requests, each with a bound
(``http_timeout``), tried again only when that is honest — a throttled request, or one
:func:`safe_to_repeat` says can be sent twice without doing twice.
"""

from __future__ import annotations

import http.cookiejar
import json
import random
import re
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from appwrite.client import Client
from appwrite.encoders.value_class_encoder import ValueClassEncoder
from appwrite.exception import AppwriteException
from appwrite.query import Query

from workbook.core.config import DEFAULT_HTTP_TIMEOUT

# -- when a request is tried again --------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a refused or dropped request is tried again.

    At most ``tries`` attempts (the first included); before each retry a wait drawn with full
    jitter from [0, min(cap, base * 2**retry)] seconds, so clients throttled together do not
    come back together; and no retry that would start later than ``total`` seconds after the
    first, so a flaky target costs a bounded time (at most total + one http timeout), not a
    hung run.
    """

    tries: int = 6
    base: float = 0.2
    cap: float = 5.0
    total: float = 60.0

    def wait(self, retry: int, rng: random.Random) -> float:
        """The pause before retry number ``retry`` (0 for the first retry)."""
        return rng.uniform(0.0, min(self.cap, self.base * 2**retry))

    @classmethod
    def from_waits(cls, waits: tuple[float, ...]) -> RetryPolicy:
        """The policy closest to an explicit list of waits (the older way to configure)."""
        return cls(tries=len(waits) + 1, base=min(waits), cap=max(waits))


DEFAULT_RETRY = RetryPolicy()
THROTTLED = 429
# Answers after which the request may or may not have done its work
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Ids a create carries: fixed ones make a repeated create answer 409 instead of a second copy
ID_PARAMS = (
    "databaseId",
    "tableId",
    "collectionId",
    "rowId",
    "documentId",
    "columnId",
    "attributeId",
    "indexId",
    "key",
)
BULK_PARAMS = ("rows", "documents")
SERVER_MADE_ID = "unique()"
_COUNTER_ROUTE = re.compile(r"/(rows|documents)/[^/]+/[^/]+/(increment|decrement)$")


def safe_to_repeat(method: str, path: str, params: Mapping[str, Any] | None) -> bool:
    """Whether sending this request twice leaves the target as sending it once.

    A 5xx, a reset or a timeout can come after the server did the work, so only such
    requests may be retried. Appwrite's semantics make these safe:

    - GET reads; PUT is an upsert by id; DELETE of what is already gone answers 404, which
      callers treat as done (`is_gone`); PATCH sets values.
    - POST creates: when every id it carries is fixed (not ``unique()``; for bulk rows,
      every row's ``$id``), a repeat answers 409 instead of making a second copy, and callers
      already check existence. With a server-made id, or none, each repeat adds another.

    And these are not: PATCH ``…/increment`` and ``…/decrement`` (and any write whose data
    holds an operator such as ``{"method": "increment"}``) add again on each repeat;
    anything staged in a transaction (``transactionId``, or the transactions routes) stages
    another operation each time, and a commit sent twice fails the second time.
    """
    verb = method.lower()
    params = params or {}
    if verb in ("get", "head"):
        return True
    if "transactionId" in params or "/transactions" in path:
        return False
    if carries_operator(params):
        return False
    if verb in ("put", "delete"):
        return True
    if verb == "patch":
        return _COUNTER_ROUTE.search(path) is None
    if verb == "post":
        return _ids_fixed(params)
    return False


def _ids_fixed(params: Mapping[str, Any]) -> bool:
    ids = [params[name] for name in ID_PARAMS if name in params]
    bulk = [params[name] for name in BULK_PARAMS if name in params]
    for rows in bulk:
        if not isinstance(rows, list) or not rows:
            return False
        ids.extend(row.get("$id") if isinstance(row, dict) else None for row in rows)
    return bool(ids) and all(_fixed(value) for value in ids)


def _fixed(value: Any) -> bool:
    return isinstance(value, str) and value not in ("", SERVER_MADE_ID)


def carries_operator(params: Mapping[str, Any]) -> bool:
    """Whether a write's data holds an Appwrite operator (a JSON string with a ``method``),
    which the server applies on every request: ``increment`` twice adds twice."""
    datas = [params.get("data")]
    for name in BULK_PARAMS:
        rows = params.get(name)
        if isinstance(rows, list):
            datas.extend(rows)
    return any(
        _is_operator(value) for data in datas if isinstance(data, dict) for value in data.values()
    )


def _is_operator(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith("{"):
        return False
    try:
        decoded = json.loads(value)
    except ValueError:
        return False
    return isinstance(decoded, dict) and isinstance(decoded.get("method"), str)


def should_retry(exc: AppwriteException, safe: bool) -> bool:
    """429 was refused before doing anything, and a connection that never opened sent
    nothing: both are retried always. A 5xx or a lost connection only when ``safe``."""
    if exc.code == THROTTLED:
        return True
    if isinstance(exc, TransportFailure):
        return exc.transient and (safe or not exc.sent)
    return safe and exc.code in RETRY_STATUSES


# -- sending one request -------------------------------------------------------------------


class TransportFailure(AppwriteException):
    """No HTTP answer at all: refused, reset, timed out. Like the SDK's own transport errors
    it has no code (``code`` 0); ``timeout`` is the bound that ran out, ``sent`` is False when
    the connection never opened, ``transient`` False when trying again cannot help (TLS)."""

    def __init__(
        self,
        message: str,
        *,
        timeout: float | None = None,
        sent: bool = True,
        transient: bool = True,
    ) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.sent = sent
        self.transient = transient


# Headers that carry a credential: never forwarded when a redirect leaves the host
CREDENTIAL_HEADERS = ("x-appwrite-key", "x-appwrite-jwt", "x-appwrite-session", "authorization")


class _Session(requests.Session):
    """Behaves as the SDK's one-off ``requests.request``: follows redirects, keeps no
    cookies between requests; but never hands credentials to another host on a redirect
    (requests itself drops only ``Authorization``)."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name in CREDENTIAL_HEADERS:
                prepared_request.headers.pop(name, None)


class RetryingClient(Client):
    """The official client, with a bound on every request and honest retries.

    The SDK sends each request through ``requests.request`` with no timeout, so a server
    that accepts and never answers holds a migration for ever. This client sends the same
    requests (headers, encoding, answers and exceptions as the SDK's ``call``) through its
    own session, with a (connect, read) timeout of ``timeout`` seconds, and retries with
    `policy` what `should_retry` allows. Every attempt gets the whole timeout (a shortened
    last attempt would fail for its own shortness and hide the real error), so a request
    takes at most policy.total + timeout in all. ``waits`` is the older way to set the policy.
    """

    def __init__(
        self,
        policy: RetryPolicy = DEFAULT_RETRY,
        *,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        waits: tuple[float, ...] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.policy = RetryPolicy.from_waits(waits) if waits else policy
        self.timeout = timeout
        self._session = _Session()
        self._random = rng or random.Random()

    def call(
        self,
        method: str,
        path: str = "",
        headers: Any = None,
        params: Any = None,
        response_type: str = "json",
    ) -> Any:
        merged = {**self._global_headers, **(headers or {})}
        if merged["content-type"].startswith("multipart/form-data"):
            # file uploads (Workbook sends none) keep the SDK's own path, unbounded
            return super().call(method, path, headers, params, response_type)
        params = {key: Query._flatten(value) for key, value in (params or {}).items()}
        safe = safe_to_repeat(method, path, params)
        deadline = time.monotonic() + self.policy.total
        attempt = 0
        while True:
            try:
                return self._send(method, path, merged, params, response_type)
            except AppwriteException as exc:
                pause = self._pause(exc, safe, attempt, deadline)
                if pause is None:
                    raise
                time.sleep(pause)
                attempt += 1

    def _pause(
        self, exc: AppwriteException, safe: bool, attempt: int, deadline: float
    ) -> float | None:
        """The wait before the next try, or None: give up now (no retry starts after the
        deadline)."""
        if attempt + 1 >= self.policy.tries or not should_retry(exc, safe):
            return None
        pause = self.policy.wait(attempt, self._random)
        return pause if time.monotonic() + pause < deadline else None

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, Any],
        params: dict[str, Any],
        response_type: str,
    ) -> Any:
        """One attempt, encoded and answered as the SDK's ``call`` does."""
        data: Any = {}
        if method != "get":
            data, params = params, {}
        if headers["content-type"].startswith("application/json"):
            # bytes: http.client then sends headers and body in one packet; a str body goes
            # in a second one, which Nagle holds for the server's delayed ACK (~40 ms a
            # request on a kept-alive connection)
            data = json.dumps(data, cls=ValueClassEncoder).encode()
        url = self._endpoint + path
        query = self.flatten(params)
        try:
            response = self._session.request(
                method=method,
                url=url,
                params=query,
                data=data,
                headers=headers,
                verify=not self._self_signed,
                allow_redirects=response_type != "location",
                timeout=(self.timeout, self.timeout),
            )
        except requests.RequestException as exc:
            raise transport_failure(method, url, exc, self.timeout) from exc
        return answer(response, response_type)


def transport_failure(
    method: str, url: str, exc: requests.RequestException, bound: float
) -> TransportFailure:
    """A transport error as one line: what was asked, and what went wrong."""
    asked = f"{method.upper()} {url}"
    # a timeout while sending arrives as a ConnectionError around the socket's TimeoutError
    if isinstance(exc, requests.Timeout) or any(isinstance(c, TimeoutError) for c in _causes(exc)):
        return TransportFailure(
            f"{asked} timed out after {bound:.3g} s",
            timeout=bound,
            sent=not isinstance(exc, requests.ConnectTimeout),
        )
    transient = isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError)
    transient = transient and not isinstance(exc, requests.exceptions.SSLError)
    return TransportFailure(
        f"{asked} failed: {_reason(exc)}", sent=not _never_connected(exc), transient=transient
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The chain of causes requests and urllib3 wrap a socket error in, outermost first."""
    seen: BaseException | None = exc
    for _ in range(12):
        if seen is None:
            return
        yield seen
        reason = getattr(seen, "reason", None)
        nested = next((a for a in seen.args if isinstance(a, BaseException)), None)
        seen = reason if isinstance(reason, BaseException) else nested or seen.__cause__


def _reason(exc: BaseException) -> str:
    innermost = list(_causes(exc))[-1]
    text = getattr(innermost, "strerror", None) or str(innermost) or type(innermost).__name__
    return " ".join(str(text).split())


def _never_connected(exc: BaseException) -> bool:
    """A connection that could not be opened (refused, no route, no such host) sent nothing."""
    from urllib3.exceptions import NewConnectionError

    return any(isinstance(cause, NewConnectionError) for cause in _causes(exc))


def answer(response: requests.Response, response_type: str) -> Any:
    """What the SDK's ``call`` returns for this response, or the AppwriteException it raises."""
    if response.status_code >= 400:
        raise http_error(response)
    warnings = response.headers.get("x-appwrite-warning")
    if warnings:
        for warning in warnings.split(";"):
            print(f"Warning: {warning}", file=sys.stderr)
    if response_type == "location":
        return response.headers.get("Location")
    if response_type == "text":
        return response.content.decode("utf-8")
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            return response.json()
        except ValueError:
            raise AppwriteException(
                f"HTTP {response.status_code} with a body that is not valid JSON",
                response.status_code,
                None,
                response.text,
            ) from None
    return response.content


def http_error(response: requests.Response) -> AppwriteException:
    """An error answer as the SDK raises it: Appwrite's JSON gives message and type; any
    other body (a proxy's page) becomes the message, with no type."""
    text = response.text
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "message" in body:
            return AppwriteException(body["message"], response.status_code, body.get("type"), text)
    return AppwriteException(text, response.status_code, None, text)


def network_failure(exc: AppwriteException) -> bool:
    """Transport errors (refused, reset, timeout) come with no HTTP status."""
    return not exc.code
