"""What ``workbook up --fleet`` shows while it runs: a live table in a terminal (tenant,
migration n/N, state, time), plain periodic lines elsewhere (CI logs), and the summary.

The board only hears ``fleet.Progress`` events; it never asks the cluster anything.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from workbook.command.fleet import FleetReport, Progress

STATE_COLOURS = {
    "queued": "dim",
    "waiting": "dim",
    "running": "cyan",
    "ok": "green",
    "failed": "red",
    "awaiting": "yellow",
    "stopped": "yellow",
    "skipped": "yellow",
}
FINAL = ("ok", "failed", "awaiting", "stopped", "skipped")
PLAIN_EVERY = 10.0  # seconds between two count lines when there is no terminal
LIVE_ROWS = 40  # a terminal shows the running tenants first, then as many as fit


@dataclass
class Board:
    """Every tenant's latest progress, in the fleet's order."""

    console: Console
    fleet: str
    rows: dict[str, Progress] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)
    clock: float = field(default_factory=time.monotonic)
    _last_plain: float = 0.0
    _live: Live | None = None

    def update(self, p: Progress) -> None:
        before = self.rows.get(p.environment)
        if before is not None and before.state in FINAL and p.state not in FINAL:
            return  # a late queue item after the tenant's result: the result stands
        if p.state == "running" and p.environment not in self.started:
            self.started[p.environment] = time.monotonic()
        self.rows[p.environment] = p
        if self._live is not None:
            return  # the live table redraws itself (running tenants' times go on)
        if p.state in FINAL and (before is None or before.state != p.state):
            self.console.print(self.line(p), soft_wrap=True, highlight=False)
        if time.monotonic() - self._last_plain >= PLAIN_EVERY:
            self._last_plain = time.monotonic()
            self.console.print(self.counts(), highlight=False)

    def line(self, p: Progress) -> str:
        colour = STATE_COLOURS.get(p.state, "white")
        return (
            f"[{colour}]{p.state:<8}[/] {escape(p.environment)} "
            f"{p.done}/{p.total} {self.seconds(p):.1f}s"
        )

    def counts(self) -> str:
        tally: dict[str, int] = {}
        for p in list(self.rows.values()):
            tally[p.state] = tally.get(p.state, 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in sorted(tally.items()))
        return f"fleet {escape(self.fleet)}: {shown} ({time.monotonic() - self.clock:.0f}s)"

    def seconds(self, p: Progress) -> float:
        if p.state in FINAL:
            return p.seconds
        begun = self.started.get(p.environment)
        return time.monotonic() - begun if begun else 0.0

    def table(self) -> Table:
        table = Table(title=self.counts(), title_justify="left")
        for column in ("tenant", "migration", "state", "time"):
            table.add_column(column, no_wrap=True)
        rows = list(self.rows.values())  # a copy: the live table draws from its own thread
        order = sorted(rows, key=lambda p: p.state != "running")
        for p in order[:LIVE_ROWS]:
            colour = STATE_COLOURS.get(p.state, "white")
            step = f"{p.done}/{p.total}" + (f" ({p.version})" if p.version else "")
            table.add_row(
                escape(p.environment),
                step if p.total else "",
                f"[{colour}]{p.state}[/]",
                f"{self.seconds(p):.1f}s",
            )
        if len(order) > LIVE_ROWS:
            table.caption = f"… {len(order) - LIVE_ROWS} more"
        return table

    @contextlib.contextmanager
    def shown(self) -> Iterator[Board]:
        """A live table while the rollout runs when the console is a terminal."""
        if not self.console.is_terminal:
            yield self
            return
        with Live(console=self.console, refresh_per_second=4, get_renderable=self.table) as live:
            self._live = live
            try:
                yield self
            finally:
                self._live = None


def print_summary(out: Console, err: Console, report: FleetReport) -> None:
    """Applied, failed, awaiting, stopped and skipped tenants; each failure named, each
    awaiting tenant with the command that confirms its step; the HTML page."""
    runs = sum(len(t.runs) for t in report.tenants)
    out.print(
        f"fleet {escape(report.fleet)}: {report.count('ok')} applied, "
        f"{report.count('failed')} failed, {report.count('awaiting')} awaiting, "
        f"{report.count('stopped')} stopped, "
        f"{report.count('skipped')} skipped; {runs} runs in {report.seconds:.1f}s",
        highlight=False,
    )
    for t in report.tenants:
        for r in t.runs:
            out.print(
                f"  {escape(t.environment)} {r['version']} {r['status']}: {escape(r['archive'])}",
                soft_wrap=True,
                highlight=False,
            )
    for t in report.failed:
        reason = t.error or next((r["error"] for r in t.runs if r.get("error")), "a run failed")
        err.print(f"[red]failed:[/] {escape(t.environment)}: {escape(reason)}", soft_wrap=True)
    for t in report.awaiting:
        run = t.awaiting_run or {}
        said = run.get("error") or "a checklist step is not confirmed"
        err.print(
            f"[bold yellow]awaiting:[/] {escape(t.environment)} {run.get('version', '')} "
            f"stopped at its checklist gate: {escape(said.splitlines()[0])}",
            soft_wrap=True,
            highlight=False,
        )
    if report.page:
        out.print(f"summary: {escape(str(report.page))}", soft_wrap=True, highlight=False)
