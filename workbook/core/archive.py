"""Archives: the executed notebook of every run, under ``history/<env>/``, as the record of
what ran, with what output, by whom and when.

Every way of running a migration ends here: the runner archives papermill's output, a
JupyterLab kernel archives the notebook JupyterLab saved, and settling a dead run annotates
whatever it left (or writes a page saying nothing was left). One writer means one shape of
provenance (``metadata.workbook``), one redaction, and one atomic replace.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from workbook.core.config import Workspace
from workbook.secrets import redact

DRY_RUN_SUFFIX = ".dry-run"


def archive_path(
    workspace: Workspace, environment: str, run_id: str, migration_name: str, dry_run: bool = False
) -> Path:
    """``history/<env>/<run id>_<NNN_slug>[.dry-run].ipynb``: the run id starts with its UTC
    time, so archives sort by when they ran."""
    slug = migration_name.split("_", 1)[1] if "_" in migration_name else migration_name
    suffix = DRY_RUN_SUFFIX if dry_run else ""
    return workspace.history_dir(environment) / f"{run_id}_{slug}{suffix}.ipynb"


def relative(workspace: Workspace, path: Path) -> str:
    return path.relative_to(workspace.root).as_posix()


def read(path: Path) -> dict[str, Any] | None:
    """The archive's notebook JSON, or None when it is missing or unreadable (truncated)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return nb if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else None


def facts_of(path: Path) -> dict[str, Any] | None:
    nb = read(path)
    return (nb.get("metadata") or {}).get("workbook") if nb else None


def write(
    path: Path,
    facts: dict[str, Any],
    secret_vars: tuple[str, ...] = (),
    notebook: dict[str, Any] | None = None,
) -> Path:
    """Annotate the archive at ``path`` with ``facts`` and redact it.

    The notebook is ``notebook`` when given (JupyterLab's saved copy), else what is at
    ``path`` (papermill's output); if neither is readable, a one-cell notebook saying why
    the run left no output. Facts already there are kept unless ``facts`` replaces them.
    """
    nb = notebook if notebook is not None else read(path)
    if nb is None:
        nb = _empty_notebook(facts)
    metadata = nb.setdefault("metadata", {})
    metadata["workbook"] = {**(metadata.get("workbook") or {}), **facts}
    text = redact(json.dumps(nb, indent=1, ensure_ascii=False), secret_vars) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half an archive
    return path


def _empty_notebook(facts: dict[str, Any]) -> dict[str, Any]:
    why = facts.get("error") or "the run ended before any output was saved"
    text = (
        f"# Run {facts.get('run_id')} left no executed notebook\n\n"
        f"Migration {facts.get('migration') or facts.get('version')}, "
        f"{facts.get('direction')}, state **{facts.get('status')}**: {why}"
    )
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "id": "workbook-no-output", "metadata": {}, "source": text}
        ],
    }


def git_commit(workspace: Workspace) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=workspace.root,
            timeout=5,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
