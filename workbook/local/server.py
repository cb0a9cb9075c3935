"""Starting the local server: in a thread of the caller, or as a child process; and `serve`.

`start_local_server` is what tests, notebooks and the runner use; `serve` is what the CLI runs.
The API key never travels on a command line: a child process gets it through
`WORKBOOK_LOCAL_KEY` (and extra test keys through `WORKBOOK_LOCAL_EXTRA_KEYS`, JSON).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests
import uvicorn

from workbook.local.app import build_app
from workbook.local.state import ServerState
from workbook.local.store import Store
from workbook.local.variables import EXTRA_KEYS_ENV, KEY_ENV

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
MAX_PORT = 65535
SQLITE_HEADER = b"SQLite format 3\x00"
_DB_HINT = "choose a SQLite file (new or existing) in a folder you can write to"


class LocalServerError(Exception):
    """The local server could not start or answer an admin request (``hint``: what to do)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def check_port(port: int) -> None:
    """A port the server can ask for (0 lets the OS choose), refused before anything opens."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise LocalServerError(
            f"port {port!r} is not a TCP port number",
            hint=f"use 1..{MAX_PORT}, or 0 to let the system choose a free one",
        )


def check_database_file(db_path: Path) -> None:
    """Refuse a database path SQLite would fail on, or spoil, before SQLite opens it.

    SQLite happily "opens" any file and only fails at the first query, possibly after
    creating ``-wal``/``-shm`` files next to it; a file that is not a database must be left
    exactly as it was. An empty file is a new database.
    """
    folder = db_path.parent
    if db_path.is_dir():
        raise LocalServerError(f"{db_path} is a folder, not a SQLite file", hint=_DB_HINT)
    if not folder.is_dir():
        raise LocalServerError(f"the folder {folder} does not exist", hint=_DB_HINT)
    if db_path.exists():
        _check_header(db_path)
    _check_writable(folder)


def _check_header(db_path: Path) -> None:
    try:
        with db_path.open("r+b") as f:  # r+ proves it writable without changing a byte
            header = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LocalServerError(
            f"cannot read and write {db_path}: {exc.strerror}", hint=_DB_HINT
        ) from None
    if header and header != SQLITE_HEADER:
        raise LocalServerError(
            f"{db_path} is not a SQLite database (it was left untouched)", hint=_DB_HINT
        )


def _check_writable(folder: Path) -> None:
    """SQLite writes its journal next to the database, so the folder must take new files."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".workbook-probe-", dir=folder)
    except OSError as exc:
        raise LocalServerError(
            f"cannot create files in {folder}: {exc.strerror}", hint=_DB_HINT
        ) from None
    os.close(fd)
    os.unlink(probe)


def make_state(
    db_path: Path,
    project_id: str,
    api_key: str,
    schema_delay: float,
    extra_keys: dict[str, list[str]] | None = None,
) -> ServerState:
    check_database_file(Path(db_path))
    return ServerState(
        store=Store(Path(db_path)),
        project_id=project_id,
        api_key=api_key,
        schema_delay=schema_delay,
        extra_keys=dict(extra_keys or {}),
    )


def _uvicorn_config(app: Any, *, own_logging: bool) -> uvicorn.Config:
    """In a thread of someone else's process (a notebook, pytest) leave its logging alone."""
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        **({} if own_logging else {"log_config": None}),
    )


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: without, a keep-alive client (the SDK's session)
    # waits ~40 ms per request on delayed ACKs (headers and body are two writes)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise LocalServerError(
            f"cannot listen on {HOST}:{port}: {exc.strerror}",
            hint="choose another port, or stop the program that uses this one",
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class LocalServer:
    """A running local server; `.stop()` (or leaving the `with` block) shuts it down."""

    endpoint: str
    project_id: str
    api_key: str = field(repr=False)
    db_path: Path
    mode: Literal["thread", "process"] = "thread"
    pid: int | None = None
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1].split("/", 1)[0])

    def _admin(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        url = self.endpoint.removesuffix("/v1") + "/_workbook/" + route
        response = requests.request(
            method, url, json=body, headers={"X-Appwrite-Key": self.api_key}, timeout=30
        )
        if response.status_code >= 400:
            raise LocalServerError(f"admin {method} {route} failed: {response.text}")
        return response.json() if response.content else None

    def request_log(self) -> list[dict[str, Any]]:
        """Every API request this server answered: method, path, query, status, time."""
        return list(self._admin("GET", "requests")["requests"])

    def clear_request_log(self) -> None:
        self._admin("DELETE", "requests")

    def inject_fault(self, **spec: Any) -> None:
        """Make the server misbehave on purpose.

        Request faults, for the next `times` requests (default 1; -1: every one until
        `clear_faults`) matching `method` and the `path` regex, each firing with `probability`
        (0..1, default 1; give `seed` to draw the same requests every run). `kind`:
        "rate_limit" (429), "server_error" (500), "unavailable" (503), "reset" (the connection
        dropped before the handler runs), "lost_answer" (the handler runs and commits, then
        the connection is dropped without an answer), "hang" (no answer until the client
        leaves, the faults are cleared, or `seconds` pass, at most 600; cleared, the request is
        served) or "latency" (`seconds` of delay, then the normal answer).
        Schema faults: `kind` = "column" or "index", `key`, optional `table`, `outcome` =
        "failed" (with `error`), "stuck" or "processing".
        """
        self._admin("POST", "faults", spec)

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_local_server(
    db_path: Path,
    *,
    port: int = 0,
    project_id: str = "workbook-local",
    api_key: str | None = None,
    schema_delay: float = 0.05,
    mode: Literal["thread", "process"] = "thread",
    extra_keys: dict[str, list[str]] | None = None,
) -> LocalServer:
    """Start an Appwrite-compatible server on 127.0.0.1 backed by the SQLite file `db_path`."""
    check_port(port)
    key = api_key or secrets.token_hex(32)
    db_path = Path(db_path)
    if mode == "process":
        return _start_process(db_path, port, project_id, key, schema_delay, extra_keys)
    state = make_state(db_path, project_id, key, schema_delay, extra_keys)
    sock = _bind(port)
    server = uvicorn.Server(_uvicorn_config(build_app(state), own_logging=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="workbook-local", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise LocalServerError("the local server did not start")
        time.sleep(0.01)
    endpoint = f"http://{HOST}:{sock.getsockname()[1]}/v1"
    return LocalServer(endpoint, project_id, key, db_path, "thread", os.getpid(), server, thread)


def _start_process(
    db_path: Path,
    port: int,
    project_id: str,
    key: str,
    schema_delay: float,
    extra_keys: dict[str, list[str]] | None,
) -> LocalServer:
    env = {**os.environ, KEY_ENV: key, EXTRA_KEYS_ENV: json.dumps(extra_keys or {})}
    command = [
        sys.executable,
        "-m",
        "workbook.local",
        "serve",
        "--db",
        str(db_path),
        "--port",
        str(port),
        "--project",
        project_id,
        "--schema-delay",
        str(schema_delay),
        "--announce",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    line = _read_announcement(process)
    endpoint = line.strip()
    server = LocalServer(
        endpoint, project_id, key, db_path, "process", process.pid, _process=process
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if requests.get(endpoint + "/health/version", timeout=2).ok:
                return server
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise LocalServerError("the local server process did not answer")
        time.sleep(0.02)


def _read_announcement(process: subprocess.Popen[bytes]) -> str:
    """The child prints its endpoint once it listens (the only thing it writes to stdout)."""
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline().decode() if process.stdout else ""),
        daemon=True,
    )
    reader.start()
    reader.join(START_TIMEOUT)
    if not result or not result[0].startswith("http"):
        process.kill()
        raise LocalServerError("the local server process did not start")
    return result[0]


def serve(
    db_path: Path,
    port: int = 0,
    project_id: str = "workbook-local",
    api_key: str | None = None,
    schema_delay: float = 0.05,
    *,
    announce: bool = False,
    extra_keys: dict[str, list[str]] | None = None,
) -> None:
    """Run the server in the foreground until SIGINT/SIGTERM (what `workbook local serve` does)."""
    check_port(port)
    key = api_key or os.environ.get(KEY_ENV) or secrets.token_hex(32)
    if extra_keys is None and os.environ.get(EXTRA_KEYS_ENV):
        extra_keys = json.loads(os.environ[EXTRA_KEYS_ENV])
    state = make_state(Path(db_path), project_id, key, schema_delay, extra_keys)
    sock = _bind(port)
    endpoint = f"http://{HOST}:{sock.getsockname()[1]}/v1"
    if announce:
        print(endpoint, flush=True)
    else:
        print(f"workbook local server: {endpoint} (project {project_id})", flush=True)
        if api_key is None and not os.environ.get(KEY_ENV) and sys.stdout.isatty():
            print(f"API key: {key}", flush=True)
    uvicorn.Server(_uvicorn_config(build_app(state), own_logging=True)).run(sockets=[sock])
