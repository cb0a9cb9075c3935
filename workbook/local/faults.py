"""Injected faults and the request log: what tests use to make the server misbehave and to prove
what a client sent.

Request faults apply to the next N matching requests: an Appwrite 429 or 500, a dropped
connection, or added latency. Schema faults make the next column or index created with a given
key end `failed` (with an error text), `stuck`, or stay `processing` for ever.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from workbook.local.errors import AppwriteError, bad_request

RequestKind = Literal["rate_limit", "server_error", "reset", "latency"]
SchemaOutcome = Literal["failed", "stuck", "processing"]
REQUEST_KINDS = ("rate_limit", "server_error", "reset", "latency")
SCHEMA_KINDS = ("column", "index")
LOG_SIZE = 10_000


@dataclass
class RequestFault:
    kind: RequestKind
    times: int = 1
    method: str | None = None
    path: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not self.path or re.search(self.path, path) is not None


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
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Register a fault from its JSON spec (see `LocalServer.inject_fault`)."""
        kind = spec.get("kind")
        try:
            if kind in REQUEST_KINDS:
                fault: RequestFault | SchemaFault = RequestFault(
                    kind=kind,
                    times=int(spec.get("times", 1)),
                    method=spec.get("method"),
                    path=spec.get("path"),
                    seconds=float(spec.get("seconds", 0.0)),
                )
                if fault.path:
                    re.compile(fault.path)
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

    def take_request(self, method: str, path: str) -> list[RequestFault]:
        """The faults that fire on this request (latency first, then at most one failure)."""
        fired: list[RequestFault] = []
        with self._lock:
            failure_taken = False
            for fault in list(self.requests):
                if not fault.matches(method, path):
                    continue
                if fault.kind != "latency":
                    if failure_taken:
                        continue
                    failure_taken = True
                fired.append(fault)
                fault.times -= 1
                if fault.times <= 0:
                    self.requests.remove(fault)
        return sorted(fired, key=lambda f: f.kind != "latency")

    def take_schema(self, kind: str, table_id: str, key: str) -> SchemaFault | None:
        with self._lock:
            for fault in self.schema:
                if fault.kind == kind and fault.key == key and fault.table in (None, table_id):
                    self.schema.remove(fault)
                    return fault
        return None


def fault_error(fault: RequestFault) -> AppwriteError:
    if fault.kind == "rate_limit":
        return AppwriteError(
            429,
            "general_rate_limit_exceeded",
            "Rate limit for the current endpoint has been exceeded. Please try again after "
            "some time.",
        )
    return AppwriteError(500, "general_unknown", "Server Error")


class RequestLog:
    """The last 10,000 requests (method, path, status, time), newest last."""

    def __init__(self, size: int = LOG_SIZE) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(
        self, method: str, path: str, query: str, status: int, started: float, duration: float
    ) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "time": started,
            "duration": round(duration, 6),
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
