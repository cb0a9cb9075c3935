"""Appwrite Workbook: versioned, notebook-driven migrations for Appwrite databases.

``import workbook`` in a kernel registers the ``%%up`` / ``%%down`` cell magics; a
migration then calls :func:`workbook.connect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbook.errors import WorkbookError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from workbook.runtime.session import Workbook


def connect(
    environment: str = "local",
    version: str | None = None,
    *,
    direction: str = "up",
    dry_run: bool = False,
    run_id: str | None = None,
) -> Workbook:
    """Connect a migration notebook to an environment (see ``workbook.runtime.session.connect``)."""
    from workbook.runtime.session import connect as _connect

    return _connect(environment, version, direction=direction, dry_run=dry_run, run_id=run_id)


def _register() -> None:
    from workbook.runtime.magics import register_if_ipython

    register_if_ipython()


_register()

__all__ = ["WorkbookError", "__version__", "connect"]


def __getattr__(name: str) -> Any:
    if name in ("Checklist", "Step"):
        from workbook.runtime import checklist

        return getattr(checklist, name)
    raise AttributeError(name)
