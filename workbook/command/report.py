"""A browsable HTML record of archived runs, for reviewers without a Jupyter server.

``history/index.html`` lists every run (newest first) and links each to an HTML render of
its executed notebook, written next to it. Renders are redone only when the notebook is
newer than its page, so regenerating after each run stays cheap.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from workbook.command.run_page import filters_html, row_attributes
from workbook.core.history import ArchivedRun

_STATUS_COLOURS = {"applied": "#1e6b35", "failed": "#b3261e", "dry-run": "#1f5f99"}


def render_notebook(notebook: Path) -> Path:
    """``run.ipynb`` → ``run.html`` (JupyterLab's look), unless already up to date."""
    page = notebook.with_suffix(".html")
    if page.exists() and page.stat().st_mtime >= notebook.stat().st_mtime:
        return page
    from nbconvert import HTMLExporter  # heavy; only this command needs it

    from workbook.command.run_page import with_header
    from workbook.core.archive import facts_of

    body, _ = HTMLExporter(template_name="lab").from_filename(str(notebook))
    page.write_text(with_header(body, notebook, facts_of(notebook)), encoding="utf-8")
    return page


def _rendered(history: Path, run: ArchivedRun, on_warning: Callable[[str], None]) -> str:
    """The link to the run's HTML page, or a note when it cannot be rendered."""
    try:
        page = render_notebook(run.path)
    except Exception as exc:  # nbconvert raises many kinds of error on a malformed file
        shown = run.path.relative_to(history.parent).as_posix()
        on_warning(f"{shown} cannot be rendered as HTML ({type(exc).__name__}); linked as .ipynb")
        return "not rendered"
    return f"<a href='{html.escape(page.relative_to(history).as_posix())}'>notebook</a>"


def write_index(
    history: Path,
    runs: Sequence[ArchivedRun],
    on_warning: Callable[[str], None] = lambda message: None,
) -> Path:
    """Render every run's notebook and an index linking them; returns the index path.

    A run whose notebook nbconvert refuses (hand-edited, half-written) stays in the index,
    linked to its raw ``.ipynb`` only, and ``on_warning`` hears why.
    """
    rows = []
    for run in runs:
        link = _rendered(history, run, on_warning)
        colour = _STATUS_COLOURS.get(run.status, "#6b4e1e")
        error = html.escape((run.error or "").splitlines()[0] if run.error else "")
        rows.append(
            f"<tr{row_attributes(run.environment, run.migration, run.status)}>"
            f"<td>{html.escape(run.started_at)}</td><td>{html.escape(run.environment)}</td>"
            f"<td>{html.escape(run.migration)}</td><td>{html.escape(run.direction)}</td>"
            f"<td style='color:{colour};font-weight:bold'>{html.escape(run.status)}</td>"
            f"<td>{html.escape(run.operator)}</td>"
            f"<td>{'' if run.seconds is None else f'{run.seconds:.1f} s'}</td>"
            f"<td>{link} · "
            f"<a href='{html.escape(run.path.relative_to(history).as_posix())}'>ipynb</a>"
            f"</td><td>{error}</td></tr>"
        )
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    keys = [(r.environment, r.migration, r.status) for r in runs]
    history.mkdir(parents=True, exist_ok=True)  # a workspace with no run yet: an empty index
    index = history / "index.html"
    index.write_text(
        "<!doctype html><meta charset='utf-8'><title>Workbook history</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}"
        "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
        "text-align:left}</style>"
        f"<h1>Workbook history</h1><p>{len(runs)} archived run(s), newest first · "
        f"written {stamp}</p>{_fleet_links(history)}{filters_html(keys)}"
        "<table><tr><th>started (UTC)</th><th>environment</th>"
        "<th>migration</th><th>direction</th><th>status</th><th>by</th><th>took</th>"
        "<th>record</th><th>error</th></tr>" + "".join(rows) + "</table>",
        encoding="utf-8",
    )
    return index


def _fleet_links(history: Path) -> str:
    """Links to the fleet rollouts' summary pages (``up --fleet``), newest first."""
    from workbook.command.fleet_page import pages

    links = [
        f"<li><a href='{html.escape(p.relative_to(history).as_posix())}'>"
        f"{html.escape(p.stem)}</a></li>"
        for p in pages(history)
    ]
    return f"<h2>fleet rollouts</h2><ul class='wb-fleets'>{''.join(links)}</ul>" if links else ""
