"""What a reviewer sees first on a run's HTML page, and how the index narrows down.

Each page starts with the run's header — status, environment, migration, direction, who,
when, how long, git commit, backup folder, parameters that ran, error — read from the
archive's ``metadata.workbook``, and a link back to the index. The index's rows carry
their environment, migration and status, and three selects filter them.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

STATUS_COLOURS = {"applied": "#1e6b35", "failed": "#b3261e", "dry-run": "#1f5f99"}
_HIDDEN_PARAMETERS = ("run_id",)


def header_html(facts: dict[str, Any], index_href: str) -> str:
    """The run's header block (and the link back to ``index_href``)."""
    status = str(facts.get("status") or "unknown")
    colour = STATUS_COLOURS.get(status, "#6b4e1e")
    direction = str(facts.get("direction") or "")
    if facts.get("dry_run"):
        direction += " (dry run)"
    seconds = facts.get("seconds")
    params = facts.get("parameters") or {}
    ran = ", ".join(f"{k}={v!r}" for k, v in params.items() if k not in _HIDDEN_PARAMETERS)
    backup = facts.get("backup") or facts.get("backup_folder") or "none recorded"
    rows = [
        ("status", f"<b style='color:{colour}'>{html.escape(status)}</b>"),
        ("environment", html.escape(str(facts.get("environment") or ""))),
        (
            "migration",
            html.escape(f"{facts.get('version') or ''} {facts.get('description') or ''}".strip()),
        ),
        ("direction", html.escape(direction)),
        ("who", html.escape(str(facts.get("operator") or ""))),
        ("when (UTC)", html.escape(str(facts.get("started_at") or ""))),
        ("duration", "" if seconds is None else f"{float(seconds):.1f} s"),
        ("git commit", html.escape(str(facts.get("git_commit") or "unknown"))),
        ("backup folder", html.escape(str(backup))),
        ("parameters that ran", f"<code>{html.escape(ran)}</code>"),
        ("run id", html.escape(str(facts.get("run_id") or ""))),
    ]
    if facts.get("error"):
        rows.append(
            ("error", f"<pre style='color:#b3261e;margin:0'>{html.escape(facts['error'])}</pre>")
        )
    cells = "".join(
        f"<tr><th style='text-align:right;padding-right:1em'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return (
        f"<div class='wb-run-header' style='border-left:8px solid {colour};margin:1em 2em;"
        f"padding:6px 12px;font-family:system-ui,sans-serif;background:{colour}10'>"
        f"<p><a class='wb-back' href='{html.escape(index_href)}'>← all runs</a></p>"
        f"<table>{cells}</table></div>"
    )


def with_header(body: str, notebook: Path, facts: dict[str, Any] | None) -> str:
    """nbconvert's page with the header right after ``<body>``."""
    index = Path(os.path.relpath(_history_root(notebook) / "index.html", notebook.parent))
    header = header_html(facts or {}, index.as_posix())
    at = body.find("<body")
    if at < 0:
        return header + body
    end = body.find(">", at) + 1
    return body[:end] + header + body[end:]


def _history_root(notebook: Path) -> Path:
    """``history/`` for ``history/<env>/run.ipynb`` (or the folder above the environment's)."""
    for parent in notebook.parents:
        if parent.name == "history":
            return parent
    return notebook.parent.parent


def row_attributes(environment: str, migration: str, status: str) -> str:
    return (
        f" data-environment='{html.escape(environment)}' data-migration='{html.escape(migration)}'"
        f" data-status='{html.escape(status)}'"
    )


def filters_html(runs: list[tuple[str, str, str]]) -> str:
    """Selects for environment, migration and status, and the script that applies them."""
    selects = []
    for i, name in enumerate(("environment", "migration", "status")):
        values = sorted({r[i] for r in runs})
        options = "".join(
            f"<option value='{html.escape(v)}'>{html.escape(v)}</option>" for v in values
        )
        selects.append(
            f"<label>{name} <select class='wb-filter' data-field='{name}'>"
            f"<option value=''>all</option>{options}</select></label> "
        )
    script = (
        "<script>document.querySelectorAll('.wb-filter').forEach(s=>s.onchange=()=>{"
        "const f={};document.querySelectorAll('.wb-filter').forEach(x=>f[x.dataset.field]=x.value);"
        "document.querySelectorAll('tr[data-status]').forEach(r=>{r.style.display="
        "Object.entries(f).every(([k,v])=>!v||r.dataset[k]===v)?'':'none'})})</script>"
    )
    return f"<p class='wb-filters'>{''.join(selects)}</p>{script}"
