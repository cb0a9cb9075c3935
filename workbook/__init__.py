"""Appwrite Workbook: versioned, notebook-driven migrations for Appwrite databases."""

from __future__ import annotations

from workbook.errors import WorkbookError

__version__ = "0.1.0"

__all__ = ["WorkbookError", "__version__"]
