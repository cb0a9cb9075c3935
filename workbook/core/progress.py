"""Plain progress lines, the same in the CLI process and in a kernel.

Where no bar can be drawn (a batch run, CI logs, a pipe) a long step prints a line at most
every ``INTERVAL`` seconds with its count and rate — ``backup posts: 5000 rows · 4100
rows/s`` — and a ``done:`` line at the end; a step too short for a line stays quiet. The
bars themselves (rich in a terminal, a tqdm widget in a notebook) live with their process:
``workbook.command.progress_view`` and ``workbook.runtime.progress``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from workbook.settings import PROGRESS_INTERVAL

INTERVAL = 2.0  # seconds between two plain lines, unless $WORKBOOK_PROGRESS_INTERVAL says


def interval() -> float:
    """Seconds between two plain lines (read when a step starts; kernels inherit it)."""
    return PROGRESS_INTERVAL.seconds() or INTERVAL


def describe(label: str, done: int, total: int | None, unit: str, seconds: float) -> str:
    """``label: 5000/20000 rows (25%) · 4100 rows/s``."""
    count = f"{done}" + (f"/{total}" if total else "")
    share = f" ({100 * done // total}%)" if total else ""
    rate = f"{done / max(seconds, 1e-9):.0f} {unit}/s"
    return f"{label}: {count} {unit}{share} · {rate}"


class PlainLines:
    """Counts one step and prints periodic lines to ``stream`` (``None``: counts only)."""

    def __init__(
        self,
        label: str,
        unit: str = "rows",
        total: int | None = None,
        *,
        stream: TextIO | None,
        interval: float = INTERVAL,
    ) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.done = 0
        self.interval = interval
        self.started = self._last = time.monotonic()
        self._stream = stream
        self._printed = False

    def update(self, n: int = 1) -> None:
        self.set(self.done + n)

    def set(self, done: int) -> None:
        """The count so far (callbacks such as ``on_progress(table, count)`` give totals)."""
        self.done = done
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._line(self.text())

    def text(self, final: bool = False) -> str:
        seconds = time.monotonic() - self.started
        tail = f" in {seconds:.1f}s" if final else ""
        return describe(self.label, self.done, self.total, self.unit, seconds) + tail

    def close(self) -> None:
        if self._printed or time.monotonic() - self.started >= self.interval:
            self._line("done: " + self.text(final=True))

    def _line(self, text: str) -> None:
        if self._stream is None:
            return
        try:
            print(text, file=self._stream, flush=True)
            self._printed = True
        except (OSError, ValueError):  # a closed stream never fails the step
            self._stream = None


def waited(what: str, status: str | None, seconds: float, limit: float) -> str:
    """``waiting for column posts.views (processing): 4s of at most 120s``."""
    state = f" ({status})" if status else ""
    return f"waiting for {what}{state}: {seconds:.0f}s of at most {limit:g}s"


def summed(set_total: Callable[[int], None]) -> Callable[[str, int], None]:
    """``on_progress(table, rows so far in that table)`` as one running total across tables
    (backups and restores report per table; the operator watches the whole step)."""
    per_table: dict[str, int] = {}

    def on_progress(table_id: str, rows: int) -> None:
        per_table[table_id] = rows
        set_total(sum(per_table.values()))

    return on_progress
