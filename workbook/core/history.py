"""The archived runs under ``history/<env>/``, read from the archives' own metadata.

A reviewer trusts this list to be complete, so a file that cannot be read as a run's
archive (truncated by a full disk, a stray JSON file, a renamed text file) is never
skipped in silence: it comes back as a one-line warning naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbook.core.catalog import notebook_problem
from workbook.core.config import Workspace


@dataclass(frozen=True)
class ArchivedRun:
    """One run as its archive's ``metadata.workbook`` records it."""

    environment: str
    path: Path
    run_id: str
    migration: str
    direction: str
    status: str
    dry_run: bool
    operator: str
    started_at: str
    seconds: float | None
    error: str | None


class NotAnArchive(Exception):
    """Why a file under history/ is not a run's archive (turned into a warning)."""


def archived_runs(
    workspace: Workspace, env: str | None = None
) -> tuple[list[ArchivedRun], list[str]]:
    """Archived runs, newest first, and a warning for each ``*.ipynb`` that is not one.

    ``env`` must name an environment of the workspace (a typo is refused, not shown as an
    empty history); one that has not run anything yet simply has no runs.
    """
    if env is not None:
        workspace.environment(env)
    root = workspace.history
    if not root.is_dir():
        return [], []
    folders = [root / env] if env else sorted(p for p in root.iterdir() if p.is_dir())
    runs: list[ArchivedRun] = []
    warnings: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.ipynb")):
            try:
                runs.append(read_archive(path, folder.name))
            except NotAnArchive as why:
                shown = path.relative_to(workspace.root).as_posix()
                warnings.append(f"{shown} is not a run archive ({why}); skipped")
    runs.sort(key=lambda r: (r.started_at, r.run_id), reverse=True)
    return runs, warnings


def read_archive(path: Path, environment: str) -> ArchivedRun:
    """One archive's facts; raises :class:`NotAnArchive` saying what is wrong with it."""
    facts = _facts(_notebook(path))
    return ArchivedRun(
        environment=environment,
        path=path,
        run_id=_text(facts, "run_id", path.stem),
        migration=_text(facts, "migration", ""),
        direction=_text(facts, "direction", ""),
        status=_text(facts, "status", "unknown"),
        dry_run=facts.get("dry_run") is True,
        operator=_text(facts, "operator", ""),
        started_at=_text(facts, "started_at", ""),
        seconds=_seconds(facts.get("seconds")),
        error=_text(facts, "error", "") or None,
    )


def _notebook(path: Path) -> dict[str, Any]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise NotAnArchive(_json_problem(exc)) from exc
    except UnicodeDecodeError as exc:
        raise NotAnArchive("not UTF-8 text") from exc
    except OSError as exc:
        raise NotAnArchive(f"cannot be read: {exc.strerror}") from exc
    problem = notebook_problem(nb)
    if problem:
        raise NotAnArchive(problem)
    return nb


def _json_problem(exc: json.JSONDecodeError) -> str:
    """A file that ends mid-value was cut off (a full disk, a killed writer): say so."""
    cut = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
    return f"invalid JSON at line {exc.lineno}" + (", cut off: truncated" if cut else "")


def _facts(nb: dict[str, Any]) -> dict[str, Any]:
    """``metadata.workbook``; a notebook without it (papermill still writing) has none yet."""
    metadata = nb.get("metadata", {})
    if not isinstance(metadata, dict):
        raise NotAnArchive("its metadata is not an object")
    facts = metadata.get("workbook", {})
    if not isinstance(facts, dict):
        raise NotAnArchive("its metadata.workbook is not an object")
    return facts


def _text(facts: dict[str, Any], key: str, default: str) -> str:
    value = facts.get(key)
    return value if isinstance(value, str) else default


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
