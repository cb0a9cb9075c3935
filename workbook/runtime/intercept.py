"""One way to stand between a notebook's raw SDK calls and the target.

A migration may call ``wb.client.call(...)`` directly, bypassing the service methods that
dry runs record and backups guard. Every request of the SDK goes through
``Client.call(method, path, headers, params, response_type)``, so that is the one place to
look: :class:`InterceptedClient` forwards everything to the real client and asks its
subclass, per request, whether the request may leave (``before_call``). A dry run records
every non-GET request and keeps it (``runtime/dryrun.py``); a guarded run backs up the table
a DELETE/PATCH/PUT would change and lets it go (``runtime/backups.py``).
"""

from __future__ import annotations

from typing import Any

SEND = True
KEEP = False


class InterceptedClient:
    """The SDK client with a per-request hook; subclasses say what happens before a call."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def before_call(self, verb: str, path: str, params: dict[str, Any]) -> bool:
        """Called with the upper-case verb before each request; :data:`SEND` lets it go,
        :data:`KEEP` keeps it in the process (the call then answers None)."""
        return SEND

    def call(
        self,
        method: str,
        path: str = "",
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        response_type: str = "json",
    ) -> Any:
        if self.before_call(method.upper(), path, dict(params or {})) is KEEP:
            return None
        return self._client.call(method, path, headers, params, response_type=response_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self._client).__name__})"
