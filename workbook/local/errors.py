"""Appwrite's error body, in one place: every failure the server answers is an AppwriteError."""

from __future__ import annotations

APPWRITE_VERSION = "1.9.6"


class AppwriteError(Exception):
    """An error the local server answers as `{message, code, type, version}`.

    `type` is Appwrite's own type string (see `app/config/errors.php`), so clients
    that branch on `AppwriteException.type` behave as against a real server.
    """

    def __init__(self, code: int, type: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.type = type
        self.message = message

    def body(self) -> dict[str, object]:
        return {
            "message": self.message,
            "code": self.code,
            "type": self.type,
            "version": APPWRITE_VERSION,
        }


def bad_request(type: str, message: str) -> AppwriteError:
    return AppwriteError(400, type, message)


def invalid_argument(param: str, description: str) -> AppwriteError:
    """Utopia's router message for a parameter that fails its validator."""
    return AppwriteError(400, "general_argument_invalid", f"Invalid `{param}` param: {description}")


def missing_argument(param: str) -> AppwriteError:
    return AppwriteError(400, "general_argument_invalid", f'Param "{param}" is not optional.')


def not_found(type: str, message: str) -> AppwriteError:
    return AppwriteError(404, type, message)


def conflict(type: str, message: str) -> AppwriteError:
    return AppwriteError(409, type, message)


def query_invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", message)
