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


# Appwrite 1.9.6's own (code, description) for the types the local server raises with no
# message of its own (`app/config/errors.php`); `%s` takes the id or key, as Exception does.
DESCRIPTIONS: dict[str, tuple[int, str]] = {
    "database_not_found": (404, "Database with the requested ID '%s' could not be found."),
    "database_already_exists": (
        409,
        "Database with the requested ID '%s' already exists. Try again with a different ID or "
        "use ID.unique() to generate a unique ID.",
    ),
    "table_not_found": (404, "Table with the requested ID '%s' could not be found."),
    "table_already_exists": (
        409,
        "A table with the requested ID '%s' already exists. Try again with a different ID or "
        "use ID.unique() to generate a unique ID.",
    ),
    "row_not_found": (404, "Row with the requested ID '%s' could not be found."),
    "row_missing_data": (400, "The row data is missing. Try again with row data populated."),
    "row_missing_payload": (
        400,
        "The row data and permissions are missing. You must provide either row data or "
        "permissions to be updated.",
    ),
    "row_already_exists": (
        409,
        "Row with the requested ID '%s' already exists. Try again with a different ID or use "
        "ID.unique() to generate a unique ID.",
    ),
    "row_unique_constraint_violation": (
        409,
        "Row violates a unique column constraint. Try again with different value(s).",
    ),
    "column_not_found": (404, "Column with the requested key '%s' could not be found."),
    "column_unknown": (
        400,
        "The column '%s' required for the index could not be found. Please confirm all your "
        "columns are in the available state.",
    ),
    "column_not_available": (
        400,
        "The requested column '%s' is not yet available. Please try again later.",
    ),
    "column_default_unsupported": (
        400,
        "Default values cannot be set for array or required columns.",
    ),
    "column_already_exists": (
        409,
        "Column with the requested key '%s' already exists. Column keys must be unique, try "
        "again with a different key.",
    ),
    "column_limit_exceeded": (
        400,
        "The maximum number or size of columns for table '%s' has been reached.",
    ),
    "column_value_invalid": (
        400,
        "The column value is invalid. Please check the type, range and value of the column.",
    ),
    "column_type_invalid": (400, "The column '%s' type is invalid."),
    "column_invalid_resize": (
        400,
        "Existing data is too large for new size, truncate your existing data then try again.",
    ),
    "COLUMN_TYPE_NOT_SUPPORTED": (400, "Column type '%s' is not supported."),
    "column_index_not_found": (404, "Index with the requested key '%s' could not be found."),
    "column_index_limit_exceeded": (
        400,
        "The maximum number of indexes for table '%s' has been reached.",
    ),
    "column_index_already_exists": (
        409,
        "Index with the requested key '%s' already exists. Try again with a different key.",
    ),
    "column_index_invalid": (400, "Index invalid."),
    "column_index_dependency": (
        409,
        "Column '%s' cannot be renamed or deleted. Please remove the associated index first.",
    ),
    "general_route_not_found": (
        404,
        "Route not found. Please ensure the endpoint is configured correctly and that the API "
        "route is valid for this SDK version. Refer to the API docs for more details.",
    ),
    "general_access_forbidden": (401, "Access to this API is forbidden."),
    "project_not_found": (
        404,
        "Project with the requested ID could not be found. Please check the value of the "
        "X-Appwrite-Project header to ensure the correct project ID is being used.",
    ),
    "user_unauthorized": (
        401,
        "The current user is not authorized to perform the requested action.",
    ),
    "general_rate_limit_exceeded": (
        429,
        "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
    ),
}


def appwrite_error(type: str, *params: str, message: str | None = None) -> AppwriteError:
    """Appwrite's error of `type` with its own code and description (ids filled in)."""
    code, description = DESCRIPTIONS[type]
    if message is None:
        message = description % params if params else description.replace(" '%s'", "")
    return AppwriteError(code, type, message)
