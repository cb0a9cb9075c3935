"""What the kernel knows about the frontend that drives it, and how it asks it to save.

A run stepped through in JupyterLab must leave the same archive as ``workbook up``: the
executed notebook with its outputs. Only the frontend holds those outputs (the kernel
sends them and forgets them), so the kernel asks JupyterLab to save the notebook, through
ipylab's ``JupyterFrontEnd`` widget, and then reads the file from disk.

Two facts shape :func:`save_notebook`:

* while a cell executes the kernel's shell channel is busy, so it never hears a comm
  reply ("saved"); it sends the command and polls the file until it contains a marker
  the caller displayed just before, which proves the save happened after that output;
* iopub is ordered and JupyterLab handles a kernel's messages one after another, so the
  widget's ``comm_open``, the outputs displayed earlier in the cell and the save command
  reach the frontend in that order: the saved file holds every output shown before it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbook.settings import BATCH

SESSION_VARIABLE = "JPY_SESSION_NAME"  # set by jupyter_server for the kernels it starts
SAVE_COMMAND = "docmanager:save-all"
_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Saved:
    """The outcome of :func:`save_notebook`: the saved file, or why there is none."""

    path: Path | None
    reason: str = ""
    seconds: float = 0.0

    def __bool__(self) -> bool:
        return self.path is not None


def kernel_shell() -> Any | None:
    """The IPython shell of a Jupyter kernel (one a frontend talks to), else None."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


def is_batch() -> bool:
    """A kernel run unattended by the runner (papermill): nobody is there to click."""
    return (BATCH.get() or "0") != "0"


def started_by_jupyter_server() -> bool:
    """A kernel a Jupyter server started for a notebook (JupyterLab, Notebook 7), so a
    person may be looking at it. Papermill and nbclient kernels have no session of their
    own, but inherit the variable when started from a notebook (``!papermill …``), so a
    kernel whose parent is the papermill command does not count."""
    if kernel_shell() is None or not os.environ.get(SESSION_VARIABLE, "").strip():
        return False
    from workbook.runtime import papermill_output

    return papermill_output.output_path() is None


def notebook_path() -> Path | None:
    """The notebook file this kernel belongs to, as jupyter_server told it at start.

    jupyter_server 2 sets ``JPY_SESSION_NAME`` to the notebook's absolute OS path (the
    notebook's directory joined with its name); older servers, and sessions created
    without a name, set the API path, relative to the server's root. The kernel starts in
    the notebook's directory, below that root, so a relative path is looked up from the
    working directory upwards. Kernels no Jupyter server started for a notebook get
    None, as does a notebook renamed or deleted since its kernel started.
    """
    name = os.environ.get(SESSION_VARIABLE, "").strip()
    if not started_by_jupyter_server() or not name.endswith(".ipynb"):
        return None
    path = Path(name)
    if path.is_absolute():
        return path if path.is_file() else None
    here = Path.cwd().resolve()
    for root in (here, *here.parents):
        if (root / path).is_file():
            return root / path
    return None


def why_not_save() -> str | None:
    """Why :func:`save_notebook` cannot work in this kernel, or None when it may."""
    if kernel_shell() is None:
        return "not running in a Jupyter kernel"
    if is_batch():
        return "a batch run: the runner archives the notebook papermill writes"
    if not started_by_jupyter_server():
        return "this kernel was not started by a Jupyter server for a notebook"
    if notebook_path() is None:
        return (
            f"this kernel's notebook (${SESSION_VARIABLE}={os.environ[SESSION_VARIABLE]}) "
            "is no file any more; was it renamed or moved?"
        )
    try:
        import ipylab  # noqa: F401
    except ImportError:
        return "ipylab is not installed in the kernel's environment"
    return None


def can_save() -> bool:
    """A JupyterLab-driven kernel that can ask its frontend to save (proven only by a save)."""
    return why_not_save() is None


def save_notebook(expect: str, timeout: float = 15.0) -> Saved:
    """Ask JupyterLab to save this kernel's notebook; wait until the file holds ``expect``.

    ``expect`` must be one line displayed just before the call and nowhere earlier (a run id
    alone is also in the banner, which an autosave may already have written): finding it
    in a file written after the request proves the saved notebook holds every output
    shown up to that point. JupyterLab's ``docmanager:save`` saves the *active* tab, which
    may not be this notebook; ``docmanager:save-all`` saves every open document, exactly
    what its autosave does, and so reaches this notebook wherever the operator looks.
    """
    reason = why_not_save()
    path = notebook_path()
    if reason is not None or path is None:
        return Saved(None, reason or "no notebook file")
    started = time.monotonic()
    before = _mtime(path)
    frontend = _request_save()
    try:
        while time.monotonic() - started < timeout:
            if _mtime(path) != before and _holds(path, expect):
                return Saved(path, seconds=time.monotonic() - started)
            time.sleep(_POLL_SECONDS)
    finally:
        _close(frontend)
    return Saved(
        None,
        f"JupyterLab did not save {path.name} within {timeout:g}s "
        "(is it open in JupyterLab, with the ipylab extension enabled?)",
        seconds=time.monotonic() - started,
    )


def fill_execution_counts(notebook: dict[str, Any]) -> int:
    """Give cells that ran the execution count JupyterLab had not yet recorded when it saved.

    JupyterLab sets a cell's count from the kernel's execute reply, which ipykernel 7
    sends from another thread than the outputs, so a save can overtake it: the cell still
    running and, on a loaded machine, the one before it have outputs but no count. The
    kernel's input history (stored as each cell starts) knows them: the latest entry with
    the cell's source. Returns how many cells were filled in.
    """
    shell = kernel_shell()
    if shell is None:
        return 0
    history = list(enumerate(shell.history_manager.input_hist_raw))
    filled = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or cell.get("execution_count") is not None:
            continue
        if not cell.get("outputs"):
            continue  # never ran, or queued behind an error: no count to give
        source = _source(cell).rstrip()
        count = next((n for n, raw in reversed(history) if n and raw.rstrip() == source), None)
        if count:
            cell["execution_count"] = count
            filled += 1
    return filled


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _request_save() -> Any:
    """Open a fresh ipylab frontend widget and send the save command through it.

    ``print`` output sits in ipykernel's buffer for a while, so it is flushed first: the
    command would otherwise reach JupyterLab before the text and save without it. A
    fresh widget per save means its ``comm_open`` travels just before the command, so a
    frontend that reloaded since the kernel started still gets the model; the widget is
    closed once the caller has its answer.
    """
    from ipylab import JupyterFrontEnd

    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # printed text waits in a buffer; the command must not overtake it
    frontend = JupyterFrontEnd()
    frontend.commands.execute(SAVE_COMMAND)
    return frontend


def _close(frontend: Any) -> None:
    """Close the widget and the parts it opened comms for (closing a parent does not)."""
    for part in ("commands", "shell", "sessions", "menu", "toolbar"):
        widget = getattr(frontend, part, None)
        if widget is not None:
            widget.close()
    frontend.close()


def _holds(path: Path, expect: str) -> bool:
    """The file is a complete notebook (JSON that parses) containing ``expect``, as
    written or as JSON escapes it (quotes, backslashes)."""
    text = _read(path)
    if expect not in text and json.dumps(expect, ensure_ascii=False)[1:-1] not in text:
        return False
    try:
        json.loads(text)
    except ValueError:
        return False  # caught mid-write: poll again
    return True


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # mid-write or gone: poll again
