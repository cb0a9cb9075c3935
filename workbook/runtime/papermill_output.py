"""A kernel started by plain ``papermill in.ipynb out.ipynb``: where its output goes.

papermill writes the executed notebook itself, after each cell, and never tells the kernel
where. Its command line does: the kernel's parent is the papermill process. Reading it lets
a migration run by hand leave the same archive as one run by ``workbook up``: its output,
redacted and annotated, under ``history/<env>/``. A program calling
``papermill.execute_notebook`` has no such command line; its run is archived with a page
saying the output was not found.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workbook.core import archive

# papermill options that take a value (papermill's cli.py); -p/-r take two.
_ONE_VALUE = {
    "-f",
    "--parameters_file",
    "-y",
    "--parameters_yaml",
    "-b",
    "--parameters_base64",
    "-k",
    "--kernel",
    "-l",
    "--language",
    "--cwd",
    "--engine",
    "--start-timeout",
    "--start_timeout",
    "--execution-timeout",
    "--autosave-cell-every",
    "--stdout-file",
    "--stderr-file",
    "--inject-paths",
}
_TWO_VALUES = {"-p", "--parameters", "-r", "--parameters_raw"}


def output_path(pid: int | None = None) -> Path | None:
    """The output notebook of the papermill command that started this kernel, if any."""
    parent = pid or os.getppid()
    try:
        raw = Path(f"/proc/{parent}/cmdline").read_bytes()
        cwd = Path(os.readlink(f"/proc/{parent}/cwd"))
    except OSError:
        return None
    argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    positionals = _papermill_positionals(argv)
    if len(positionals) < 2 or positionals[1] == "-":
        return None
    path = Path(positionals[1])
    return path if path.is_absolute() else cwd / path


def _papermill_positionals(argv: list[str]) -> list[str]:
    start = next(
        (i for i, a in enumerate(argv) if Path(a).name == "papermill" or a == "papermill"), None
    )
    if start is None:
        return []
    found, i = [], start + 1
    while i < len(argv):
        arg = argv[i]
        if arg in _TWO_VALUES:
            i += 3
            continue
        if arg in _ONE_VALUE:
            i += 2
            continue
        if not arg.startswith("-"):
            found.append(arg)
        i += 1
    return found


def read_current() -> dict[str, Any] | None:
    """What papermill has written so far (every finished cell), or None."""
    path = output_path()
    return archive.read(path) if path else None
