"""The terminal's line for a failed cell: which cell, which line of it, and that line's code,
read from the traceback papermill hands back (IPython's, with colours)."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ARROW = re.compile(r"^-+>\s*(\d+)\s(.*)$")


def failing_line(traceback: list[str]) -> tuple[int, str] | None:
    """The line number and code of the last arrow in a cell's frame ("Cell In[n]")."""
    found = None
    in_cell = False
    for chunk in traceback:
        for line in _ANSI.sub("", chunk).splitlines():
            if line.startswith("Cell In["):
                in_cell = True
            elif line.startswith("File "):
                in_cell = False
            elif in_cell and (match := _ARROW.match(line.strip())):
                found = (int(match.group(1)), match.group(2).strip()[:100])
    return found


def describe_cell_error(cell: int | str, ename: str, evalue: str, traceback: list[str]) -> str:
    where = f"cell {cell}"
    line = failing_line(traceback or [])
    if line:
        where += f", line {line[0]} `{line[1]}`"
    return f"{where}: {ename}: {evalue}"
