"""Tracebacks of a migration's cells show the operator's code, not Workbook's.

A ``%%up`` cell runs through IPython's magic machinery and ``magics.run_body``; a ``wb.``
call that fails goes through ops, transport and the SDK. None of those frames helps the
person at the notebook: the handler keeps the frames of their own cells (and of libraries
they called directly), and a ``WorkbookError`` is shown as its one line and hint, without
the chain of causes it already translated.
"""

from __future__ import annotations

import linecache
import types
from pathlib import Path
from typing import Any

import IPython

from workbook.errors import WorkbookError

_INTERNAL = (str(Path(__file__).resolve().parents[1]), str(Path(IPython.__file__).parent))


def _internal(frame: types.FrameType, lineno: int) -> bool:
    filename = frame.f_code.co_filename
    if filename.startswith(_INTERNAL):
        return True
    # the cell's own line that hands a %%up body to the magic
    return "run_cell_magic(" in linecache.getline(filename, lineno)


def user_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without Workbook's and IPython's frames (None if nothing is left)."""
    kept: list[types.TracebackType] = []
    while tb is not None:
        if not _internal(tb.tb_frame, tb.tb_lineno):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for old in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, old.tb_frame, old.tb_lasti, old.tb_lineno)
    return rebuilt


def _handler(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    if isinstance(value, WorkbookError):  # its message already says what its causes were
        value.__suppress_context__ = True
        value.__cause__ = None
    trimmed = user_frames(tb) or tb
    stb = shell.InteractiveTB.structured_traceback(etype, value, trimmed, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)
    return stb


def install(shell: Any) -> None:
    """Show every error of a cell run through the handler above."""
    shell.set_custom_exc((Exception,), _handler)
