"""Progress of long steps (backfills, row copies, waits): a bar in the notebook, plain
periodic lines when the kernel runs unattended.

Under ``workbook up`` (``WORKBOOK_BATCH=1``) the kernel's own output goes into the archived
notebook, not the operator's terminal; the kernel process's stderr is the runner's, so the
lines go there (``sys.__stderr__``): ``backfill blog_posts: 5000 rows · 4100 rows/s``, at
most one every few seconds, the same in CI logs as in a terminal. In a notebook a tqdm
widget bar counts and gives the rate.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from workbook.settings import BATCH

INTERVAL = 2.0  # seconds between two plain lines


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
        self.label, self.unit, self.total = label, unit, total
        self.done = 0
        self.interval = INTERVAL if interval is None else interval
        self._printed = False
        self.started = self._last = time.monotonic()
        self._stream = stream
        self._bar: Any = None
        if bar if bar is not None else not _batch() and stream is None:
            self._bar = _notebook_bar(label, unit, total)
        if self._bar is None and self._stream is None:
            self._stream = sys.__stderr__

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            return
        if self._printed or time.monotonic() - self.started >= self.interval:
            self._line(final=True)  # a step too short for a line stays quiet

    def text(self, final: bool = False) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        count = f"{self.done}" + (f"/{self.total}" if self.total else "")
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        rate = f"{self.done / seconds:.0f} {self.unit}/s"
        tail = f" in {seconds:.1f}s" if final else ""
        return f"{self.label}: {count} {self.unit}{share} · {rate}{tail}"

    def _line(self, final: bool = False) -> None:
        if self._stream is None:
            return
        try:
            print(("done: " if final else "") + self.text(final), file=self._stream, flush=True)
            self._printed = True
        except (OSError, ValueError):  # a closed stream never fails the step
            self._stream = None


def _notebook_bar(label: str, unit: str, total: int | None) -> Any:
    try:
        from IPython import get_ipython

        if getattr(get_ipython(), "kernel", None) is None:  # not a notebook's kernel
            return None
        from tqdm.notebook import tqdm

        return tqdm(total=total, desc=label, unit=f" {unit}")
    except Exception:  # no widgets (plain kernel, old frontend): plain lines instead
        return None
