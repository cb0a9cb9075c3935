"""What Workbook adds around papermill: 20 trivial migrations, `workbook up` vs bare papermill.

The same notebooks run on the embedded `local` environment in fresh workspaces: as one
`workbook up` with pre-warmed kernels (the default) and without (`WORKBOOK_PREWARM=0`);
as 20 plain `papermill` commands (each kernel records itself in the ledger and starts its
own local server); and, the floor of one fresh kernel per notebook, one process calling
`papermill.execute_notebook` 20 times on a one-cell notebook. Prints seconds per migration.

    .venv/bin/python benchmarks/run_overhead.py [--count 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def workspace(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    (root / "migrations").mkdir()
    env = clean_env(root)
    for i in range(count):
        subprocess.run(
            [sys.executable, "-m", "workbook", "create", "--name", f"step_{i:02d}"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    return root


def clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env["WORKBOOK_WORKSPACE"] = str(root)
    return env


def floor(root: Path, count: int) -> tuple[float, float]:
    """One process, `papermill.execute_notebook` `count` times on a one-cell notebook: the
    loop's seconds, and the whole process's (its start and papermill's import included, as
    they are in `workbook up`'s figure)."""
    code = f"""
import nbformat, papermill, time
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
nb.metadata["kernelspec"] = {{"name": "python3", "display_name": "Python 3", "language": "python"}}
nbformat.write(nb, "one_cell.ipynb")
start = time.perf_counter()
for i in range({count}):
    papermill.execute_notebook("one_cell.ipynb", f"out{{i}}.ipynb", kernel_name="python3",
                               progress_bar=False)
print(time.perf_counter() - start)
"""
    root.mkdir()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=clean_env(root),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip().splitlines()[-1]), time.perf_counter() - start


def timed_up(root: Path, prewarm: bool) -> float:
    env = clean_env(root)
    if not prewarm:
        env["WORKBOOK_PREWARM"] = "0"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbook", "up"], cwd=root, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:  # say why, not just that it failed
        tail = (done.stdout + done.stderr).strip().splitlines()[-8:]
        raise SystemExit("workbook up failed:\n" + "\n".join(tail))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    n = args.count
    with tempfile.TemporaryDirectory() as tmp:
        warm = workspace(Path(tmp) / "prewarmed", n)
        cold = workspace(Path(tmp) / "cold", n)
        b = workspace(Path(tmp) / "papermill", n)

        cold_s = timed_up(cold, prewarm=False)
        warm_s = timed_up(warm, prewarm=True)

        notebooks = sorted((b / "migrations").glob("*.ipynb"))
        out = b / "out"
        out.mkdir()
        start = time.perf_counter()
        for nb in notebooks:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "papermill",
                    str(nb),
                    str(out / nb.name),
                    "-p",
                    "environment",
                    "local",
                    "--no-progress-bar",
                ],
                cwd=b,
                env=clean_env(b),
                check=True,
                capture_output=True,
            )
        papermill_s = time.perf_counter() - start
        floor_s, floor_process_s = floor(Path(tmp) / "floor", n)

    def line(label: str, seconds: float) -> str:
        return f"{label:<44}{seconds:7.2f} s  ({seconds / n:.2f} s per migration)"

    print(f"migrations: {n}  (cores: {os.cpu_count()})")
    print(line("workbook up, pre-warmed kernels:", warm_s))
    print(line("workbook up, WORKBOOK_PREWARM=0:", cold_s))
    print(line(f"bare papermill CLI x {n}:", papermill_s))
    print(line(f"floor: execute_notebook x {n}, one process:", floor_s))
    print(line("  the same, with its process start and imports:", floor_process_s))
    print(
        f"pre-warm saves {(cold_s - warm_s) / n:+.2f} s per migration; "
        f"pre-warmed vs floor {(warm_s - floor_s) / n:+.2f} s per migration "
        f"({(warm_s - floor_process_s) / n:+.2f} counting both processes' start)"
    )
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
