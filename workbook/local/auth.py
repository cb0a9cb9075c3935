"""Appwrite's project/key/scope checks (app/controllers/shared/api.php), in the same order."""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from workbook.local.errors import AppwriteError, appwrite_error
from workbook.local.state import ServerState

# What a key gets on top of its own scopes (the `keys` role base scopes).
BASE_SCOPES = ("global", "health.read", "graphql")
ALL_SCOPES = (
    "databases.read",
    "databases.write",
    "tables.read",
    "tables.write",
    "collections.read",
    "collections.write",
    "columns.read",
    "columns.write",
    "attributes.read",
    "attributes.write",
    "indexes.read",
    "indexes.write",
    "rows.read",
    "rows.write",
    "documents.read",
    "documents.write",
    "health.read",
)


def key_scopes(state: ServerState, secret: str) -> Sequence[str] | None:
    """Scopes of a secret, or None when the project has no such key."""
    if hmac.compare_digest(secret.encode(), state.api_key.encode()):
        return ALL_SCOPES
    for candidate, scopes in state.extra_keys.items():
        if hmac.compare_digest(secret.encode(), candidate.encode()):
            return (*scopes, *BASE_SCOPES)
    return None


def authorize(
    state: ServerState, headers: Mapping[str, str], scopes: Sequence[str], host: str
) -> None:
    """Raise Appwrite's error for a missing project, unknown key, or missing scope."""
    if "public" in scopes:
        return
    project = headers.get("x-appwrite-project")
    if not project:
        raise AppwriteError(
            401,
            "general_access_forbidden",
            "No Appwrite project was specified. Please specify your project ID when "
            "initializing your Appwrite SDK.",
        )
    if project != state.project_id:
        raise appwrite_error("project_not_found")
    secret = headers.get("x-appwrite-key")
    if not secret:
        raise AppwriteError(
            401,
            "general_unauthorized_scope",
            f"User (role: guests) missing scopes ({_scope_list(scopes)})",
        )
    granted = key_scopes(state, secret)
    if granted is None:
        raise AppwriteError(
            401,
            "user_unauthorized",
            "The current user is not authorized to perform the requested action.",
        )
    if not set(scopes) & set(granted):
        raise AppwriteError(
            401,
            "general_unauthorized_scope",
            f"app.{state.project_id}@service.{host} (role: applications) missing scopes "
            f"({_scope_list(scopes)})",
        )


def is_admin(state: ServerState, headers: Mapping[str, str]) -> bool:
    secret = headers.get("x-appwrite-key") or ""
    return hmac.compare_digest(secret.encode(), state.api_key.encode())


def _scope_list(scopes: Sequence[str]) -> str:
    return "[" + ",".join(f'"{s}"' for s in scopes) + "]"
