"""Start-up of the commands that run no notebook, beside the interpreter's own.

Each command runs as the operator types it (the ``workbook`` console script) in a fresh
workspace, ``--repeat`` times; the median wall time is printed with ``python -c pass``
measured in the same run as the baseline, and the median CPU time (user + system), which a
machine loaded by other work inflates less than the wall time. ``status --env local`` also
starts the embedded server and reads the ledger through the Appwrite SDK (which it needs:
importing ``appwrite.client`` loads every model of ``appwrite.models``, about half a second);
``--help`` and ``create`` load neither (tests/unit/test_startup_imports.py).

Last, one GET to the embedded server over a kept-alive connection (as the SDK's session
sends them) beside the same GET on a fresh connection: without TCP_NODELAY on the server's
socket the kept-alive one waited ~40 ms on delayed ACKs, a cost every ledger read paid.

    .venv/bin/python benchmarks/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WORKBOOK = Path(sys.executable).parent / "workbook"


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median(repeat: int, run: Callable[[int], tuple[float, float]]) -> tuple[float, ...]:
    runs = [run(i) for i in range(repeat)]
    walls = [w for w, _ in runs]
    return statistics.median(walls), min(walls), max(walls), statistics.median(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
        env["WORKBOOK_WORKSPACE"] = str(root)
        (root / "workbook.toml").write_text("")
        workbook = [str(WORKBOOK)] if WORKBOOK.exists() else [sys.executable, "-m", "workbook"]
        subprocess.run([*workbook, "create", "--name", "first"], cwd=root, env=env, check=True)
        rows = {
            "python -c pass (baseline)": lambda i: timed([sys.executable, "-c", "pass"], root, env),
            "workbook --help": lambda i: timed([*workbook, "--help"], root, env),
            "workbook create": lambda i: timed(
                [*workbook, "create", "--name", f"bench_{i}"], root, env
            ),
            "workbook status --env local": lambda i: timed(
                [*workbook, "status", "--env", "local"], root, env
            ),
        }
        print(f"median of {args.repeat} runs: wall seconds (min–max) and CPU seconds")
        print("(CPU = user + system; on a loaded machine the wall time waits for a core)")
        for name, run in rows.items():
            mid, low, high, cpu = median(args.repeat, run)
            print(f"  {name:<30} wall {mid:6.3f}  ({low:.3f}–{high:.3f})  cpu {cpu:6.3f}")
        request_latency(root, args.repeat * 4)


def request_latency(root: Path, repeat: int) -> None:
    """Median milliseconds of one GET to the embedded server: fresh vs kept-alive."""
    import requests

    from workbook.local.server import start_local_server

    with start_local_server(root / "latency.db", api_key="bench") as server:
        headers = {"X-Appwrite-Project": server.project_id, "X-Appwrite-Key": "bench"}
        url = f"{server.endpoint}/tablesdb"
        session = requests.Session()

        def once(get: Callable[..., requests.Response]) -> float:
            started = time.perf_counter()
            get(url, headers=headers, timeout=10).raise_for_status()
            return (time.perf_counter() - started) * 1000

        once(session.get)  # the connection is opened once, then kept
        fresh = statistics.median(once(requests.get) for _ in range(repeat))
        kept = statistics.median(once(session.get) for _ in range(repeat))
    print(f"one GET to the local server, median of {repeat}:")
    print(f"  {'fresh connection (baseline)':<30} {fresh:6.1f} ms")
    print(f"  {'kept-alive connection':<30} {kept:6.1f} ms")


if __name__ == "__main__":
    main()
