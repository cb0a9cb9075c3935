"""Pre-warmed kernels: the right variables, numbering from 1, and no kernel left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import papermill
import pytest

from workbook.command import kernels
from workbook.command.runner import KERNEL, KERNEL_ARGUMENTS

PROBE = (
    "import os, sys\n"
    "print(os.environ.get('WORKBOOK_RUN_LOCK'), os.environ.get('WORKBOOK_DRY_RUN_STATE'),"
    " os.getcwd(), 'pandas' in sys.modules)"
)


def kernel_children() -> list[int]:
    """Kernel processes this (test) process started that are still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid"))
        if int(ppid) == os.getpid() and b"ipykernel" in cmdline:
            found.append(int(entry.name))
    return found


def wait_for_no_kernels(seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := kernel_children()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def probe_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE), nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_each_run_gets_its_own_warmed_kernel_with_the_sequences_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_DRY_RUN_STATE", "left-over-from-the-caller")
    source = probe_notebook(tmp_path / "probe.ipynb")
    env = {"WORKBOOK_RUN_LOCK": "lock-1", "WORKBOOK_DRY_RUN_STATE": None}
    with kernels.prewarmed(2, env, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is not None
        outputs = []
        for i in range(2):
            km = pool.take()
            assert km is not None and km.is_alive(), pool.last_error
            out = tmp_path / f"out{i}.ipynb"
            papermill.execute_notebook(
                str(source),
                str(out),
                kernel_name=KERNEL,
                progress_bar=False,
                **kernels.engine_for(km),
            )
            assert not km.has_kernel  # shut down after its run: isolation stays
            outputs.append(nbformat.read(out, as_version=4))
        assert pool.take() is None  # no kernel is started past the sequence's end
    for nb in outputs:
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == [1, 2]  # the warm-up left no count
        printed = code[0].outputs[0]["text"].split()
        assert printed == ["lock-1", "None", str(tmp_path), "True"]
    assert wait_for_no_kernels() == []


def test_a_kernel_dying_mid_cell_is_noticed_at_once(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os, time\nos._exit(1)\ntime.sleep(60)")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "dies.ipynb")
    with kernels.prewarmed(1, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is not None
        clock = time.monotonic()
        with pytest.raises(Exception, match="(?i)dead|died"):
            papermill.execute_notebook(
                str(tmp_path / "dies.ipynb"),
                str(tmp_path / "out.ipynb"),
                kernel_name=KERNEL,
                progress_bar=False,
                execution_timeout=60,
                **kernels.engine_for(pool.take()),
            )
        assert time.monotonic() - clock < 30  # not the cell's timeout
    assert wait_for_no_kernels() == []


def test_a_sequence_that_stops_early_leaves_no_kernel(tmp_path: Path) -> None:
    with kernels.prewarmed(3, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is not None
        first = pool.take()  # the second starts meanwhile; the sequence then fails
        assert first is not None, pool.last_error
    assert wait_for_no_kernels() == []


def test_an_interrupt_while_a_kernel_starts_leaves_no_kernel(tmp_path: Path) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        kernels.prewarmed(3, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS),
    ):
        raise KeyboardInterrupt
    assert wait_for_no_kernels() == []


def test_prewarming_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBOOK_PREWARM", "0")
    with kernels.prewarmed(3, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is None
    assert kernels.engine_for(None) == {}
