"""The direction guard: ``%%up`` and ``%%down`` cell magics, and the failure hook.

A kernel never sees cell tags, so the marker lives in the source. A cell marked for the
other direction prints why it was skipped; papermill and JupyterLab's "Run All" therefore
behave identically, and a rollback cell never runs by accident during an upgrade.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

SKIP_MESSAGE = "skipped: {step} step (this run's direction is '{direction}')"


def run_body(shell: Any, body: str) -> Any:
    """Execute a cell body in the user namespace, displaying its last expression."""
    source = shell.transform_cell(body)
    # Registered with IPython's cache so a traceback shows the failing line of the body.
    filename = shell.compile.cache(source, shell.execution_count, raw_code=body)
    tree = ast.parse(source, filename=filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), shell.user_ns)  # noqa: S102 - it is the user's cell
    if last is not None:
        value = eval(compile(last, filename, "eval"), shell.user_ns)  # noqa: S307
        if value is not None:
            from IPython.display import display

            display(value)


def _direction_magic(step: str):  # noqa: ANN202 - IPython's magic signature
    def magic(line: str, cell: str) -> None:
        from IPython import get_ipython

        from workbook.runtime.session import current

        wb = current()
        if wb.direction != step:
            print(SKIP_MESSAGE.format(step=step, direction=wb.direction))
            return
        from IPython.display import display

        from workbook.runtime.banner import BannerLine

        display(BannerLine(wb.environment, wb.direction, wb.dry_run))  # in sight while scrolling
        run_body(get_ipython(), cell)

    magic.__name__ = step
    magic.__doc__ = f"Run this cell only when the migration runs {step}."
    return magic


# ``%workbook down``: the direction the next run of this kernel takes, whatever the
# parameters cell says; used up once a run has opened (a refused connect keeps it).
_next_direction: str | None = None
WORKBOOK_USAGE = "usage: %workbook down | %workbook up | %workbook (show the next direction)"


def workbook_magic(line: str) -> None:
    """``%workbook down``: the next Run All of this notebook rolls it back, without editing
    the parameters cell; ``%workbook up`` goes back to the parameters cell's direction.

    ``workbook.connect`` takes the direction, shows the DOWN banner, and asks for the
    environment's name on ``confirm = true`` environments exactly as for an ``up`` run (the
    CLI's ``workbook down`` asks the same). A run that opened uses the choice up.
    """
    global _next_direction
    from workbook.core.catalog import DIRECTIONS

    word = line.strip().lower()
    if word and word not in DIRECTIONS:
        print(WORKBOOK_USAGE)
        return
    if word == "down":
        _next_direction = "down"
        print(
            "the next run of this notebook rolls it back (direction 'down'): Run All Cells; "
            "the parameters cell stays as it is. `%workbook up` cancels."
        )
    elif word == "up":
        _next_direction = None
        print("the next run follows the parameters cell's direction")
    else:
        shown = _next_direction or "the parameters cell's"
        print(f"next run's direction: {shown}. {WORKBOOK_USAGE}")


def next_direction(given: str) -> str:
    """The direction ``workbook.connect`` uses: ``%workbook down`` wins over the parameters
    cell, whose ``direction`` variable is then set to match (cells that read it agree)."""
    if _next_direction is None:
        return given
    from IPython import get_ipython

    shell = get_ipython() if sys.modules.get("IPython") else None
    if shell is not None and "direction" in shell.user_ns:
        shell.user_ns["direction"] = _next_direction
    return _next_direction


def direction_used() -> None:
    """A run opened with the chosen direction: the next Run All follows the parameters."""
    global _next_direction
    _next_direction = None


def _record_failure(result: Any) -> None:
    """A cell raised: the run is failed, in the ledger, whoever started the kernel."""
    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
    if error is None:
        return
    from workbook.runtime import session

    wb = session._current
    if wb is None or wb.finished:
        return
    if getattr(error, "keeps_run_open", False):
        return  # a checklist gate: the run waits for ticks (runtime/checklist.py)
    if isinstance(error, KeyboardInterrupt):
        if wb.under_runner:
            return  # the runner interrupted it (a cell timeout, Ctrl-C) and says why
        wb.fail("KeyboardInterrupt: the operator interrupted the kernel")
        return
    wb.fail(f"{type(error).__name__}: {error}")


def register(shell: Any) -> None:
    """Install the magics and the hook once per kernel."""
    if getattr(shell, "_workbook_registered", False):
        return
    shell.register_magic_function(_direction_magic("up"), "cell", "up")
    shell.register_magic_function(_direction_magic("down"), "cell", "down")
    shell.register_magic_function(workbook_magic, "line", "workbook")
    shell.events.register("post_run_cell", _record_failure)
    from workbook.runtime import tracebacks

    tracebacks.install(shell)  # the operator's frames, not Workbook's
    shell._workbook_registered = True


def register_if_ipython() -> None:
    # A kernel has imported IPython before any user code runs; a process that has not
    # (the `workbook` CLI) has no shell to register with and should not pay IPython's import.
    if sys.modules.get("IPython") is None:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        register(shell)
