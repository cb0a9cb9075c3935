"""`python -m workbook.local serve --db PATH [--port N] [--project ID] [--schema-delay S]`.

The API key comes from `WORKBOOK_LOCAL_KEY` (never argv); without it one is generated and
shown only on a terminal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbook.local.server import LocalServerError, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workbook.local")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the local Appwrite-compatible server")
    run.add_argument("--db", required=True, type=Path, help="SQLite file (created if missing)")
    run.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free)")
    run.add_argument("--project", default="workbook-local", help="the project id clients send")
    run.add_argument(
        "--schema-delay",
        type=float,
        default=0.05,
        help="seconds a new column or index stays 'processing'",
    )
    run.add_argument("--announce", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        serve(args.db, args.port, args.project, None, args.schema_delay, announce=args.announce)
    except LocalServerError as exc:  # one line and a hint, as the workbook CLI prints them
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
