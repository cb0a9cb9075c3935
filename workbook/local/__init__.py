"""The embedded Appwrite-compatible server (TablesDB over SQLite) for the `local` environment."""

from __future__ import annotations

from workbook.local.server import LocalServer, LocalServerError, serve, start_local_server

__all__ = ["LocalServer", "LocalServerError", "serve", "start_local_server"]
