"""A kernel that fails to start is started again (bounded tries, growing pause); nothing
else is retried. The failure is real: a kernel spec whose program exits before the kernel
answers, for its first N starts, found by jupyter_client through JUPYTER_PATH."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from workbook.command import kernels
from workbook.command.runner import KERNEL, KERNEL_ARGUMENTS

FLAKY = """\
import os, pathlib, sys
count = pathlib.Path(os.environ["FLAKY_COUNT"])
starts = int(count.read_text() or 0) + 1 if count.exists() else 1
count.write_text(str(starts))
if starts <= int(os.environ["FLAKY_FAILURES"]):
    sys.exit(f"flaky kernel: start {starts} fails")
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[1:]])
"""


@pytest.fixture
def flaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The kernel spec ``python3`` replaced by one that fails its first starts; returns the
    file counting its starts."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "flaky.py").write_text(FLAKY)
    argv = [sys.executable, str(spec / "flaky.py"), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("FLAKY_COUNT", str(tmp_path / "starts"))
    monkeypatch.setattr(kernels, "START_BACKOFF", 0.05)
    return tmp_path / "starts"


def one_cell(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("answer = 6 * 7\nprint(answer)")]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def run_one_cell(tmp_path: Path, km: Any) -> Path:
    """The one-cell notebook run on ``km`` (the kernel the retries produced)."""
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(one_cell(tmp_path / "in.ipynb")),
        str(out),
        kernel_name=KERNEL,
        progress_bar=False,
        **kernels.engine_for(km),
    )
    return out


def test_a_kernel_that_fails_to_start_twice_is_started_a_third_time_and_runs(
    tmp_path: Path, flaky: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_FAILURES", "2")  # without retries the run would have no kernel
    with kernels.prewarmed(1, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is not None
        km = pool.take()
        assert km is not None and pool.failed_starts == 2
        out = run_one_cell(tmp_path, km)
    assert flaky.read_text() == "3"
    assert "42" in nbformat.read(out, as_version=4).cells[0].outputs[0]["text"]


def test_starts_are_bounded_and_say_why_they_failed(
    tmp_path: Path, flaky: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_FAILURES", "99")
    with kernels.prewarmed(1, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is not None
        assert pool.take() is None  # the run then starts its own kernel, and fails honestly
        assert pool.failed_starts == kernels.START_TRIES
        assert "Kernel died before replying" in (pool.last_error or "")
    assert flaky.read_text() == str(kernels.START_TRIES)


def test_without_prewarming_a_kernel_that_fails_to_start_twice_is_started_a_third_time(
    tmp_path: Path, flaky: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_PREWARM", "0")
    monkeypatch.setenv("FLAKY_FAILURES", "2")
    with kernels.prewarmed(1, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as pool:
        assert pool is None  # no kernel is started ahead of its run
        with kernels.kernel_for_run(pool, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as km:
            assert km is not None and km.is_alive()
            out = run_one_cell(tmp_path, km)
    assert flaky.read_text() == "3"
    assert "42" in nbformat.read(out, as_version=4).cells[0].outputs[0]["text"]
    assert not km.has_kernel  # shut down after its one run


def test_without_prewarming_starts_are_bounded_too(
    tmp_path: Path, flaky: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBOOK_PREWARM", "0")
    monkeypatch.setenv("FLAKY_FAILURES", "99")
    with kernels.kernel_for_run(None, {}, tmp_path, KERNEL, KERNEL_ARGUMENTS) as km:
        assert km is None  # the run then starts its own kernel, and fails honestly
    assert flaky.read_text() == str(kernels.START_TRIES)
