"""A storage-free stand-in for the local server: the ceiling the SDK can reach over HTTP.

It answers exactly the two calls the benchmark makes (`TablesDB.create_rows` and
`TablesDB.list_rows` with `cursorAfter` + `limit`) with the same row shape the real
server returns, on the same stack (Starlette on uvicorn, one process), and stores
nothing. Listing fabricates rows from the cursor id, which the benchmark makes
`r<sequence>`. Run as a script: it prints its port on the first stdout line.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROWS_PATH = "/v1/tablesdb/{db}/tables/{table}/rows"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def fabricated_row(db: str, table: str, seq: int, stamp: str) -> dict[str, object]:
    """The row the benchmark inserted as number `seq`, in the server's full shape."""
    return {
        "$id": f"r{seq:09d}",
        "$sequence": str(seq),
        "$tableId": table,
        "$databaseId": db,
        "$createdAt": stamp,
        "$updatedAt": stamp,
        "$permissions": [],
        **bench_values(seq),
    }


def bench_values(seq: int) -> dict[str, object]:
    """The user columns of benchmark row `seq` (shared with the benchmark's writer)."""
    return {
        "title": f"title number {seq}",
        "n": seq,
        "flag": seq % 2 == 0,
        "at": "2026-01-01T00:00:00.000+00:00",
    }


def _parse_queries(request: Request) -> tuple[int, int]:
    """Return (sequence after the cursor, limit) from `queries[i]` GET params."""
    after, limit = 0, 25
    for key, value in request.query_params.multi_items():
        if not key.startswith("queries"):
            continue
        query = json.loads(value)
        if query["method"] == "cursorAfter":
            after = int(str(query["values"][0]).lstrip("r"))
        elif query["method"] == "limit":
            limit = int(query["values"][0])
    return after, limit


async def create_rows(request: Request) -> Response:
    db, table = request.path_params["db"], request.path_params["table"]
    body = json.loads(await request.body())
    stamp = _now()
    rows = []
    for row in body["rows"]:
        seq = int(row["$id"].lstrip("r"))
        rows.append(
            {
                **{k: v for k, v in row.items() if not k.startswith("$")},
                "$id": row["$id"],
                "$sequence": str(seq),
                "$tableId": table,
                "$databaseId": db,
                "$createdAt": stamp,
                "$updatedAt": stamp,
                "$permissions": row.get("$permissions", []),
            }
        )
    return JSONResponse({"total": len(rows), "rows": rows}, status_code=201)


async def list_rows(request: Request) -> Response:
    db, table = request.path_params["db"], request.path_params["table"]
    after, limit = _parse_queries(request)
    total = int(request.app.state.total)
    stamp = _now()
    last = min(total, after + limit)
    rows = [fabricated_row(db, table, seq, stamp) for seq in range(after + 1, last + 1)]
    return JSONResponse({"total": len(rows), "rows": rows})


async def rows(request: Request) -> Response:
    if request.method == "POST":
        return await create_rows(request)
    return await list_rows(request)


def build_app(total: int) -> Starlette:
    app = Starlette(routes=[Route(ROWS_PATH, rows, methods=["GET", "POST"])])
    app.state.total = total
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows a full listing holds")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(build_app(args.rows), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
