"""Injected faults and the request log: what tests use to make the server misbehave and to prove
what a client sent.

Request faults apply to the next N matching requests (or to every one, ``times=-1``), each
with a probability (``probability``, seeded by ``seed`` so a flaky run can be replayed): an
Appwrite 429, 500 or 503, a connection dropped before the handler ran (``reset``) or after it
ran and committed (``lost_answer``), a request held without an answer (``hang``), or added
latency. Schema faults make the next column or index created with a given key end `failed`
(with an error text), `stuck`, or stay `processing` for ever.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from workbook.local.errors import AppwriteError, bad_request

RequestKind = Literal[
    "rate_limit", "server_error", "unavailable", "reset", "lost_answer", "hang", "latency"
]
SchemaOutcome = Literal["failed", "stuck", "processing"]
REQUEST_KINDS = (
    "rate_limit",
    "server_error",
    "unavailable",
    "reset",
    "lost_answer",
    "hang",
    "latency",
)
SCHEMA_KINDS = ("column", "index")
LOG_SIZE = 10_000
UNLIMITED = -1
# A held request is let go after this long even if nobody clears the fault, so a forgotten
# 'hang' cannot keep a server (or a test run) waiting for ever.
MAX_HOLD = 600.0


@dataclass
class RequestFault:
    kind: RequestKind
    times: int = 1  # UNLIMITED (-1): every matching request, until cleared
    method: str | None = None
    path: str | None = None
    seconds: float = 0.0  # latency: the delay; hang: how long to hold (at most MAX_HOLD)
    probability: float = 1.0
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.times != UNLIMITED and self.times < 1:
            raise ValueError("times must be a positive count, or -1 for every request")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.seconds < 0:
            raise ValueError("seconds must not be negative")
        if self.path:
            re.compile(self.path)
        self._random = random.Random(self.seed)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None

    def fires(self) -> bool:
        """One draw per matching request: a seeded fault fires on the same requests each run."""
        return self.probability >= 1.0 or self._random.random() < self.probability

    def consume(self) -> bool:
        """Count one firing; True when the fault is used up."""
        if self.times == UNLIMITED:
            return False
        self.times -= 1
        return self.times <= 0

    @property
    def hold_seconds(self) -> float:
        return min(self.seconds or MAX_HOLD, MAX_HOLD)


@dataclass
class SchemaFault:
    kind: Literal["column", "index"]
    key: str
    outcome: SchemaOutcome = "failed"
    error: str = "Injected failure"
    table: str | None = None


@dataclass
class Faults:
    """Pending faults, consumed as they fire; thread-safe because handlers run in a pool."""

    requests: list[RequestFault] = field(default_factory=list)
    schema: list[SchemaFault] = field(default_factory=list)
    # bumped by clear(): a held ('hang') request watches it to know it may go on
    generation: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Register a fault from its JSON spec (see `LocalServer.inject_fault`)."""
        kind = spec.get("kind")
        try:
            if kind in REQUEST_KINDS:
                fault: RequestFault | SchemaFault = request_fault(kind, spec)
            elif kind in SCHEMA_KINDS:
                outcome = spec.get("outcome", "failed")
                if outcome not in ("failed", "stuck", "processing") or not spec.get("key"):
                    raise ValueError("schema faults need a key and an outcome")
                fault = SchemaFault(
                    kind=kind,
                    key=str(spec["key"]),
                    outcome=outcome,
                    error=str(spec.get("error", "Injected failure")),
                    table=spec.get("table"),
                )
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
        except (TypeError, ValueError, re.error) as exc:
            raise bad_request("general_argument_invalid", f"Invalid fault: {exc}") from None
        with self._lock:
            if isinstance(fault, RequestFault):
                self.requests.append(fault)
            else:
                self.schema.append(fault)
        return {"kind": kind, "pending": len(self.requests) + len(self.schema)}

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.schema.clear()
            self.generation += 1

    def take_request(self, method: str, path: str) -> list[RequestFault]:
        """The faults that fire on this request (latency first, then at most one failure)."""
        fired: list[RequestFault] = []
        with self._lock:
            failure_taken = False
            for fault in list(self.requests):
                if not fault.matches(method, path):
                    continue
                if fault.kind != "latency" and failure_taken:
                    continue
                if not fault.fires():
                    continue
                failure_taken = failure_taken or fault.kind != "latency"
                fired.append(fault)
                if fault.consume():
                    self.requests.remove(fault)
        return sorted(fired, key=lambda f: f.kind != "latency")

    def take_schema(self, kind: str, table_id: str, key: str) -> SchemaFault | None:
        with self._lock:
            for fault in self.schema:
                if fault.kind == kind and fault.key == key and fault.table in (None, table_id):
                    self.schema.remove(fault)
                    return fault
        return None


def request_fault(kind: RequestKind, spec: dict[str, Any]) -> RequestFault:
    """A request fault from its JSON spec; ValueError/TypeError name what is wrong."""
    seed = spec.get("seed")
    return RequestFault(
        kind=kind,
        times=int(spec.get("times", 1)),
        method=spec.get("method"),
        path=spec.get("path"),
        seconds=float(spec.get("seconds", 0.0)),
        probability=float(spec.get("probability", 1.0)),
        seed=None if seed is None else int(seed),
    )


def fault_error(fault: RequestFault) -> AppwriteError:
    """The answer of a fault that fails with an error body, as Appwrite words it."""
    if fault.kind == "rate_limit":
        return AppwriteError(
            429,
            "general_rate_limit_exceeded",
            "Rate limit for the current endpoint has been exceeded. Please try again after "
            "some time.",
        )
    if fault.kind == "unavailable":
        # 503 is one of the codes Appwrite's error handler lets through (reference §4); a
        # real outage (a restart, an overloaded upstream) answers it before doing anything.
        return AppwriteError(503, "general_server_error", "Service Unavailable")
    return AppwriteError(500, "general_unknown", "Server Error")


class RequestLog:
    """The last 10,000 requests (method, path, status, time, fault), newest last."""

    def __init__(self, size: int = LOG_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        started: float,
        duration: float,
        fault: str | None = None,
    ) -> None:
        """``status`` is what the handler answered (0: nothing); ``fault``: the kind that fired."""
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "time": started,
            "duration": round(duration, 6),
            "fault": fault,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def monotonic() -> float:
    return time.perf_counter()
