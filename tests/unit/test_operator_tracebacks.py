"""A failing cell's traceback shows the operator's lines, not Workbook's own frames; the
terminal line names the cell, the line number and the failing line."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from workbook.command.cell_error import describe_cell_error, failing_line
from workbook.runtime import magics, tracebacks


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    shell = InteractiveShell.instance(colors="nocolor")
    tracebacks.install(shell)
    return shell


def test_workbook_frames_are_hidden_from_a_cell_s_traceback(shell, capsys) -> None:  # noqa: ANN001
    shell.user_ns["run_body"] = magics.run_body
    result = shell.run_cell('run_body(get_ipython(), "rows = [1]\\nrows[10]")')
    assert isinstance(result.error_in_exec, IndexError)
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "IndexError" in text and "rows[10]" in text, text
    assert "magics.py" not in text and "run_body" not in text.replace("run_body(get", ""), text


def test_the_terminal_line_names_cell_line_and_code() -> None:
    traceback = [
        "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
        "\x1b[31mIndexError\x1b[39m          Traceback (most recent call last)",
        "Cell \x1b[32mIn[5]\x1b[39m, line \x1b[32m3\x1b[39m\n      1 rows = []\n      2 x = 1\n"
        "\x1b[32m----> 3\x1b[39m rows[10]\n",
        "\x1b[31mIndexError\x1b[39m: list index out of range",
    ]
    assert failing_line(traceback) == (3, "rows[10]")
    line = describe_cell_error(5, "IndexError", "list index out of range", traceback)
    assert line == "cell 5, line 3 `rows[10]`: IndexError: list index out of range"
    assert describe_cell_error(5, "E", "v", []) == "cell 5: E: v"
