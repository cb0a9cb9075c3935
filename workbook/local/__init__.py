"""The embedded Appwrite-compatible server (TablesDB over SQLite) for the `local` environment.

Imports nothing from the rest of Workbook, and nothing heavy on import: the server itself
(uvicorn, Starlette) loads only when asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalServer", "LocalServerError", "serve", "start_local_server"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from workbook.local import server

        return getattr(server, name)
    raise AttributeError(name)
