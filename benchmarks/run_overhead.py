"""What Workbook adds around papermill: 20 trivial migrations, `workbook up` vs bare papermill.

Both sides run the same notebooks on the embedded `local` environment in fresh workspaces:
once as one `workbook up` (lock, backups, ledger, archive, one local server for all runs),
once as 20 plain `papermill` commands (each kernel records itself in the ledger and
starts its own local server). Prints wall times and the per-migration difference.

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
        subprocess.run([sys.executable, "-m", "workbook", "create", "--name", f"step_{i:02d}"],
                       cwd=root, env=env, check=True, capture_output=True)
    return root


def clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env["WORKBOOK_WORKSPACE"] = str(root)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a = workspace(Path(tmp) / "workbook", args.count)
        b = workspace(Path(tmp) / "papermill", args.count)

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "workbook", "up"], cwd=a, env=clean_env(a),
                       check=True, capture_output=True)
        workbook_s = time.perf_counter() - start

        notebooks = sorted((b / "migrations").glob("*.ipynb"))
        out = b / "out"
        out.mkdir()
        start = time.perf_counter()
        for nb in notebooks:
            subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out / nb.name),
                            "-p", "environment", "local", "--no-progress-bar"],
                           cwd=b, env=clean_env(b), check=True, capture_output=True)
        papermill_s = time.perf_counter() - start

    n = args.count
    print(f"migrations:            {n}")
    print(f"workbook up:           {workbook_s:7.2f} s  ({workbook_s / n:.2f} s per migration)")
    print(f"bare papermill x {n}:  {papermill_s:7.2f} s  ({papermill_s / n:.2f} s per migration)")
    print(f"difference:            {workbook_s - papermill_s:+7.2f} s  "
          f"({(workbook_s - papermill_s) / n:+.2f} s per migration)")


if __name__ == "__main__":
    main()
