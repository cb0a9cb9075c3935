"""The expected schema of a workspace: its migrations replayed on a scratch embedded server."""

from __future__ import annotations

from workbook.core.config import Workspace
from workbook.core.schema import Schema
from workbook.errors import WorkbookError


def expected(workspace: Workspace) -> Schema:
    raise WorkbookError(
        "the expected schema (a replay of the migrations) is not available yet",
        "compare with --schema FILE or --against ENV",
    )
