"""A fleet rollout's summary as a page of the history site: ``history/_fleets/*.html``.

One page per ``up --fleet``: how many tenants were applied, failed, awaiting, stopped and
skipped, then a row per tenant with its state, what ran, its error and a link to each
run's archived notebook (``history/<env>/…``). ``history --html`` links every page from the
index. The folder starts with ``_``, which no tenant id (an Appwrite id) can, so it is
never read as an environment's history.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FOLDER = "_fleets"
STATE_COLOURS = {
    "ok": "#1e6b35",
    "failed": "#b3261e",
    "awaiting": "#8a6d00",  # stopped at a checklist gate: the error names the confirm command
    "stopped": "#6b4e1e",
    "skipped": "#777",
}


def pages(history: Path) -> list[Path]:
    """The rollout pages, newest first."""
    folder = history / FOLDER
    return sorted(folder.glob("*.html"), reverse=True) if folder.is_dir() else []


def write_page(history: Path, report: Any) -> Path:
    """Write the page of ``report`` (a ``fleet.FleetReport``); returns its path."""
    stamp = datetime.now(UTC)
    folder = history / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{stamp:%Y%m%dT%H%M%S}-{report.fleet}.html"
    counts = ", ".join(f"{report.count(s)} {'applied' if s == 'ok' else s}" for s in STATE_COLOURS)
    rows = "".join(_row(t) for t in report.tenants)
    note = " · <b>interrupted (Ctrl-C)</b>" if report.interrupted else ""
    page.write_text(
        "<!doctype html><meta charset='utf-8'>"
        f"<title>fleet {html.escape(report.fleet)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
        "text-align:left;vertical-align:top}</style>"
        "<p><a href='../index.html'>← all runs</a></p>"
        f"<h1>fleet {html.escape(report.fleet)}</h1>"
        f"<p class='wb-fleet-counts'>{counts} · {report.seconds:.1f} s · "
        f"{stamp.isoformat(timespec='seconds')}{note}</p>"
        "<table><tr><th>tenant</th><th>state</th><th>migrations</th><th>took</th>"
        f"<th>archives</th><th>error</th></tr>{rows}</table>",
        encoding="utf-8",
    )
    return page


def _row(tenant: Any) -> str:
    colour = STATE_COLOURS.get(tenant.state, "#000")
    done = sum(r["ok"] for r in tenant.runs)
    links = " ".join(
        f"<a href='../{html.escape(_under_history(r['archive']))}'>"
        f"{html.escape(r['version'])} {html.escape(r['status'])}</a>"
        for r in tenant.runs
    )
    errors = [tenant.error] if tenant.error else []
    errors += [f"{r['version']}: {r['error']}" for r in tenant.runs if r.get("error")]
    error = "<br>".join(html.escape(e.splitlines()[0]) for e in errors if e)
    return (
        f"<tr data-tenant='{html.escape(tenant.environment)}' data-state='{tenant.state}'>"
        f"<td>{html.escape(tenant.environment)}</td>"
        f"<td style='color:{colour};font-weight:bold'>{tenant.state}</td>"
        f"<td>{done}/{tenant.pending}</td><td>{tenant.seconds:.1f} s</td>"
        f"<td>{links}</td><td>{error}</td></tr>"
    )


def _under_history(archive: str) -> str:
    """``history/t01/run.ipynb`` → ``t01/run.ipynb`` (the page sits in history/_fleets/)."""
    parts = Path(archive).parts
    return Path(*parts[1:]).as_posix() if parts and parts[0] == "history" else archive
