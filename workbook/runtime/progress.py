"""Progress of long steps in the kernel (backfills, row copies, backups, waits for columns
and indexes): a bar in the notebook, plain periodic lines when the kernel runs unattended.

Under ``workbook up`` (``WORKBOOK_BATCH=1``) the kernel's own output goes into the archived
notebook, not the operator's terminal; the kernel process's stderr is the runner's, so the
lines go there (``sys.__stderr__``): ``backfill blog_posts: 5000 rows · 4100 rows/s``, at
most one every few seconds, the same in CI logs as in a terminal (the format is
``workbook.core.progress``'s, shared with the CLI process). In a notebook a tqdm widget
bar counts and gives the rate.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO

from workbook.core import progress as plain
from workbook.settings import BATCH

INTERVAL: float | None = None  # seconds between two plain lines (None: plain.interval())
WAIT_BAR_AFTER = 1.0  # a wait shorter than this draws nothing in a notebook


def _interval() -> float:
    return INTERVAL if INTERVAL is not None else plain.interval()


def _batch() -> bool:
    return (BATCH.get() or "0") != "0"


class Progress:
    """Counts one step's units: ``with Progress("backfill posts", "rows") as p: p.update()``."""

    def __init__(
        self,
        label: str,
        unit: str = "rows",
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        interval: float | None = None,
        bar: bool | None = None,
    ) -> None:
        self._bar: Any = None
        if bar if bar is not None else not _batch() and stream is None:
            self._bar = _notebook_bar(label, unit, total)
        if self._bar is None and stream is None:
            stream = sys.__stderr__
        self._lines = plain.PlainLines(
            label,
            unit,
            total,
            stream=None if self._bar is not None else stream,
            interval=_interval() if interval is None else interval,
        )

    @property
    def done(self) -> int:
        return self._lines.done

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self._lines.update(n)
        if self._bar is not None:
            self._bar.update(n)

    def set(self, done: int) -> None:
        """The count so far, for callbacks that report totals (``on_progress(table, n)``)."""
        self.update(done - self.done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            return
        self._lines.close()

    def text(self, final: bool = False) -> str:
        return self._lines.text(final)


class Waiting:
    """A bounded wait (a column or index being built, a table being deleted): seconds
    waited out of the limit and what Appwrite says meanwhile. Quiet when it is short."""

    def __init__(self, what: str, limit: float, *, stream: TextIO | None = None) -> None:
        self.what, self.limit = what, limit
        self.started = self._last = time.monotonic()
        self._stream = stream
        self._bar: Any = None
        self._shown = 0

    def tick(self, status: str | None = None) -> None:
        """Called at each poll; draws or prints once the wait is long enough to notice."""
        now = time.monotonic()
        waited = now - self.started
        if not _batch() and self._stream is None:
            if self._bar is None and waited >= WAIT_BAR_AFTER:
                self._bar = _notebook_bar(f"waiting for {self.what}", "s", int(self.limit))
                if self._bar is None:
                    self._stream = sys.__stderr__
            if self._bar is not None:
                self._bar.set_postfix_str(status or "", refresh=False)
                self._bar.update(int(waited) - self._shown)
                self._shown = int(waited)
                return
        if now - self._last >= _interval():
            self._last = now
            self._line(waited, status)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif time.monotonic() - self.started >= _interval():
            self._line(time.monotonic() - self.started, "available", done=True)

    def _line(self, waited: float, status: str | None, done: bool = False) -> None:
        stream = self._stream or sys.__stderr__
        text = plain.waited(self.what, status, waited, self.limit)
        # a closed stream never fails the step
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(("done: " if done else "") + text, file=stream, flush=True)


def _notebook_bar(label: str, unit: str, total: int | None) -> Any:
    try:
        from IPython import get_ipython

        if getattr(get_ipython(), "kernel", None) is None:  # not a notebook's kernel
            return None
        from tqdm.notebook import tqdm

        return tqdm(total=total, desc=label, unit=f" {unit}")
    except Exception:  # no widgets (plain kernel, old frontend): plain lines instead
        return None
