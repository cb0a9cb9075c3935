"""Progress of long steps in the CLI process: backups, restores, a sequence of migrations.

On a terminal a rich bar counts rows and gives the rate; without one (a pipe, CI logs) the
same counts come as plain lines at most every few seconds (``workbook.core.progress``, the
format the kernel's own steps use), so a batch log says what happened and how fast. A
sequence of migrations says which one of how many is running before each starts.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.markup import escape

from workbook.core import progress as plain

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from workbook.command.runner import RunResult
    from workbook.core.catalog import Migration
    from workbook.core.config import Environment


def draws_bars(console: Console) -> bool:
    """A bar redraws in place: only on an interactive terminal, never in a log."""
    return console.is_terminal and not console.is_dumb_terminal


class RowsView:
    """Rows of a backup or restore as they go: ``on_progress(table, rows)`` is the callback
    ``workbook.core.backup`` and ``workbook.command.restore`` take."""

    def __init__(
        self,
        console: Console,
        label: str,
        unit: str = "rows",
        total: int | None = None,
        *,
        interval: float | None = None,
        bars: bool | None = None,
    ) -> None:
        self.label = label
        self._bars = draws_bars(console) if bars is None else bars
        self._lines = plain.PlainLines(
            label,
            unit,
            total,
            stream=None if self._bars else console.file,
            interval=plain.interval() if interval is None else interval,
        )
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if self._bars:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            count = MofNCompleteColumn() if total else TextColumn("{task.completed}")
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                count,
                TextColumn(unit),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
            )
            self._task = self._progress.add_task(escape(label), total=total, rate="")
        self.on_progress = plain.summed(self.set)

    @property
    def done(self) -> int:
        return self._lines.done

    def __enter__(self) -> RowsView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, table_id: str, rows: int) -> None:
        """The view is itself an ``on_progress`` callback (``with view as on_progress``)."""
        self.on_progress(table_id, rows)

    def set(self, done: int) -> None:
        self._lines.set(done)
        if self._progress is not None and self._task is not None:
            seconds = max(time.monotonic() - self._lines.started, 1e-9)
            rate = f"· {done / seconds:.0f} {self._lines.unit}/s"
            self._progress.update(self._task, completed=done, rate=rate)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            return
        self._lines.close()


class SequenceView:
    """``[2/3] up 002 Add blog views`` before each run of a sequence starts: the operator
    sees which of how many is running while its kernel works (runs report when they end)."""

    def __init__(self, console: Console, direction: str) -> None:
        self.console, self.direction = console, direction
        self._todo: list[Migration] = []
        self._done = 0

    def start(self, environment: Environment, todo: list[Migration]) -> None:
        self._todo, self._done = list(todo), 0
        self._announce()

    def finished(self, result: RunResult) -> None:
        self._done += 1
        if result.ok:
            self._announce()

    def _announce(self) -> None:
        if self._done >= len(self._todo):
            return
        m = self._todo[self._done]
        self.console.print(
            f"[bold][{self._done + 1}/{len(self._todo)}][/] {self.direction} {m.version} "
            f"{escape(m.description)} …",
            soft_wrap=True,
            highlight=False,
        )
