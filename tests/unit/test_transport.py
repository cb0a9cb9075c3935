"""Bounded waits and honest retries: Workbook's client against a real server over HTTP.

The local server misbehaves on request (hang, 429, 503, 500, lost answers); the official
SDK's services send through `RetryingClient`, and the server's request log shows what
really went over the wire. Timings are asserted as generous bounds, never as tight ones.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from workbook.core.client import connect_target, is_gone, step_failed
from workbook.core.config import Environment, Workspace
from workbook.core.transport import RetryingClient, RetryPolicy, TransportFailure, safe_to_repeat
from workbook.errors import ConnectionFailed
from workbook.local.server import LocalServer, start_local_server

FAST = RetryPolicy(tries=4, base=0.01, cap=0.05, total=20.0)
TIMEOUT = 1.0
DB = "main"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server of this module's own: faults are server-wide."""
    path = tmp_path_factory.mktemp("transport") / "t.db"
    with start_local_server(path, schema_delay=0.0) as srv:
        tables = TablesDB(_client(srv))
        tables.create(DB, DB)
        tables.create_table(DB, "t", "t", columns=[{"key": "n", "type": "integer"}])
        yield srv


@pytest.fixture
def tables(server: LocalServer) -> Iterator[TablesDB]:
    server.clear_faults()
    server.clear_request_log()
    yield TablesDB(_client(server))
    server.clear_faults()


def _client(
    server: LocalServer, policy: RetryPolicy = FAST, timeout: float = TIMEOUT
) -> RetryingClient:
    client = RetryingClient(policy, timeout=timeout)
    client.set_endpoint(server.endpoint).set_project(server.project_id)
    client.set_key(server.api_key)
    return client


def _log(server: LocalServer, method: str, path_end: str) -> list[dict[str, Any]]:
    return [
        e for e in server.request_log() if e["method"] == method and e["path"].endswith(path_end)
    ]


def _eventually(read: Callable[[], list[Any]], count: int) -> list[Any]:
    """A held request is logged once the server notices its client left, a moment later."""
    deadline = time.monotonic() + 5
    while len(entries := read()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return entries


def _timed(call: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(AppwriteException) as caught:
        call()
    return caught.value, time.monotonic() - started


# -- timeouts ------------------------------------------------------------------------------


def test_a_hanging_get_fails_within_its_bounds(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="hang", times=-1, method="GET", path=f"/tablesdb/{DB}$")
    error, elapsed = _timed(lambda: tables.get(DB))
    assert elapsed < 10  # FAST.tries x 1 s, plus short waits
    assert isinstance(error, TransportFailure) and not error.code
    assert "timed out after 1 s" in str(error.message)
    failed = step_failed("get main", error)
    assert "\n" not in failed.message and "http_timeout" in str(failed.hint)
    held = _eventually(lambda: _log(server, "GET", f"/tablesdb/{DB}"), FAST.tries)
    assert [e["fault"] for e in held] == ["hang"] * FAST.tries


def test_a_slow_answer_within_the_timeout_is_not_a_failure(
    server: LocalServer, tables: TablesDB
) -> None:
    server.inject_fault(kind="latency", seconds=0.3, method="GET")
    assert tables.get(DB).id == DB


# -- what is retried -----------------------------------------------------------------------


def test_throttled_and_unavailable_gets_are_retried(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="rate_limit", times=2, method="GET", path=f"/tablesdb/{DB}$")
    server.inject_fault(kind="unavailable", times=1, method="GET", path=f"/tablesdb/{DB}$")
    assert tables.get(DB).id == DB
    statuses = [e["status"] for e in _log(server, "GET", f"/tablesdb/{DB}")]
    assert statuses == [429, 429, 503, 200]


def test_a_dropped_get_is_retried(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="reset", times=2, method="GET", path=f"/tablesdb/{DB}$")
    assert tables.get(DB).id == DB
    assert len(_log(server, "GET", f"/tablesdb/{DB}")) == 3


def test_throttling_is_retried_even_for_a_server_made_id(
    server: LocalServer, tables: TablesDB
) -> None:
    """A 429 is refused before anything is done: repeating it cannot create twice."""
    server.inject_fault(kind="rate_limit", method="POST", path="/rows$")
    row = tables.create_row(DB, "t", "unique()", {"n": 5})
    assert [e["status"] for e in _log(server, "POST", "/rows")] == [429, 201]
    tables.delete_row(DB, "t", row.id)


def test_a_failed_increment_is_not_retried(server: LocalServer, tables: TablesDB) -> None:
    tables.upsert_row(DB, "t", "counter", {"n": 1})
    server.clear_request_log()
    server.inject_fault(kind="server_error", method="PATCH", path="/increment$")
    error, _ = _timed(lambda: tables.increment_row_column(DB, "t", "counter", "n", 1))
    assert getattr(error, "code", None) == 500
    assert len(_log(server, "PATCH", "/increment")) == 1  # one request: an increment adds
    assert tables.get_row(DB, "t", "counter").data["n"] == 1


def test_a_lost_answer_to_a_fixed_id_create_is_retried_into_409(
    server: LocalServer, tables: TablesDB
) -> None:
    """The retried create answers 409: the row exists once. Callers treat 409 on a fixed
    id as 'already there' (they check existence), which is why the retry is allowed."""
    server.inject_fault(kind="lost_answer", method="POST", path="/rows$")
    error, _ = _timed(lambda: tables.create_row(DB, "t", "fixed1", {"n": 7}))
    assert getattr(error, "code", None) == 409
    assert getattr(error, "type", None) == "row_already_exists"
    log = _log(server, "POST", "/rows")
    assert [(e["status"], e["fault"]) for e in log] == [(201, "lost_answer"), (409, None)]
    assert tables.get_row(DB, "t", "fixed1").data["n"] == 7


def test_a_lost_answer_to_a_server_made_id_create_is_not_retried(
    server: LocalServer, tables: TablesDB
) -> None:
    """A retry would have made a second row: the one request made one, and the error says
    the connection failed."""
    before = tables.list_rows(DB, "t").total
    server.inject_fault(kind="lost_answer", method="POST", path="/rows$")
    error, _ = _timed(lambda: tables.create_row(DB, "t", "unique()", {"n": 9}))
    assert isinstance(error, TransportFailure)
    assert len(_log(server, "POST", "/rows")) == 1
    assert tables.list_rows(DB, "t").total == before + 1


def test_a_bulk_create_with_a_row_without_id_is_not_retried(
    server: LocalServer, tables: TablesDB
) -> None:
    server.inject_fault(kind="unavailable", method="POST", path="/rows$")
    error, _ = _timed(lambda: tables.create_rows(DB, "t", [{"$id": "b1", "n": 1}, {"n": 2}]))
    assert getattr(error, "code", None) == 503
    assert len(_log(server, "POST", "/rows")) == 1


def test_retries_stop_at_the_total_bound(server: LocalServer) -> None:
    server.clear_faults()
    server.clear_request_log()
    patient = RetryPolicy(tries=1000, base=0.05, cap=0.1, total=1.5)
    tables = TablesDB(_client(server, patient))
    server.inject_fault(kind="unavailable", times=-1, method="GET", path=f"/tablesdb/{DB}$")
    try:
        error, elapsed = _timed(lambda: tables.get(DB))
    finally:
        server.clear_faults()
    assert getattr(error, "code", None) == 503
    assert elapsed < 10  # total 1.5 s; generous for a loaded machine
    assert 1 < len(_log(server, "GET", f"/tablesdb/{DB}")) < 1000


@pytest.mark.parametrize(
    ("method", "path", "params", "safe"),
    [
        ("get", "/tablesdb/db/tables/t/rows", {"queries": []}, True),
        ("put", "/tablesdb/db/tables/t/rows/r1", {"data": {"n": 1}}, True),
        ("delete", "/tablesdb/db/tables/t", {}, True),
        ("patch", "/tablesdb/db/tables/t/rows/r1", {"data": {"n": 1}}, True),
        ("patch", "/tablesdb/db/tables/t/rows/r1/n/increment", {"value": 1}, False),
        ("patch", "/tablesdb/db/tables/t/rows/r1/n/decrement", {"value": 1}, False),
        ("patch", "/tablesdb/db/tables/t/rows", {"data": {"n": '{"method":"increment"}'}}, False),
        ("put", "/tablesdb/db/tables/t/rows/r1", {"data": {"n": 1}, "transactionId": "x"}, False),
        ("patch", "/tablesdb/transactions/x", {"commit": True}, False),
        ("post", "/tablesdb", {"databaseId": "db", "name": "db"}, True),
        ("post", "/tablesdb/db/tables", {"tableId": "t", "name": "t"}, True),
        ("post", "/tablesdb/db/tables/t/columns/integer", {"key": "n"}, True),
        ("post", "/tablesdb/db/tables/t/indexes", {"key": "i", "columns": ["n"]}, True),
        ("post", "/tablesdb/db/tables/t/rows", {"rowId": "r1", "data": {}}, True),
        ("post", "/tablesdb/db/tables/t/rows", {"rowId": "unique()", "data": {}}, False),
        ("post", "/tablesdb/db/tables/t/rows", {"rows": [{"$id": "a"}, {"$id": "b"}]}, True),
        ("post", "/tablesdb/db/tables/t/rows", {"rows": [{"$id": "a"}, {"n": 1}]}, False),
        ("post", "/tablesdb/db/tables/t/rows", {"rows": [{"$id": "unique()"}]}, False),
        ("post", "/tablesdb/db/tables/t/columns/relationship", {"relatedTableId": "u"}, False),
        ("post", "/tablesdb/transactions", {"ttl": 60}, False),
        ("post", "/tablesdb/db/tables/t/rows", {"rowId": "r1", "transactionId": "x"}, False),
    ],
)
def test_safe_to_repeat(method: str, path: str, params: dict[str, Any], safe: bool) -> None:
    assert safe_to_repeat(method, path, params) is safe


# -- connecting: what a wrong endpoint looks like -------------------------------------------


class _Site(http.server.BaseHTTPRequestHandler):
    """A web site, not an API: every path answers with a page (or what the test sets)."""

    status = 200
    content_type = "text/html; charset=utf-8"
    body = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"
    location: str | None = None
    seen_headers: list[dict[str, str]] = []  # noqa: RUF012 - shared with the test on purpose

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen_headers.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        if self.location:
            self.send_header("Location", self.location)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_DELETE = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the test output is not the place for an access log."""


def _site(**attrs: Any) -> tuple[http.server.ThreadingHTTPServer, type[_Site]]:
    handler = type("Site", (_Site,), {"seen_headers": [], **attrs})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, handler


@pytest.fixture
def site_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Environment]:
    monkeypatch.setenv("SITE_KEY", "sk-" + "s3cr3t" * 8)
    return lambda endpoint: Environment(
        name="site", project="p", database=DB, key_env="SITE_KEY", endpoint=endpoint
    )


@pytest.mark.parametrize("status", [200, 404])
def test_an_html_endpoint_is_named_with_the_fix(
    tmp_path: Path, site_env: Callable[[str], Environment], status: int
) -> None:
    httpd, _ = _site(status=status)
    endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with pytest.raises(ConnectionFailed) as caught:
            connect_target(Workspace(tmp_path), site_env(endpoint))
    finally:
        httpd.shutdown()
    failure = caught.value
    assert f"{endpoint} (environment 'site') answered HTML, not Appwrite's JSON" in failure.message
    assert failure.hint == "set endpoint to the API root, e.g. https://cloud.appwrite.io/v1"
    assert "s3cr3t" not in str(failure)


def test_json_that_is_not_appwrites_is_named(
    tmp_path: Path, site_env: Callable[[str], Environment]
) -> None:
    httpd, _ = _site(content_type="application/json", body=b'{"ok": true}')
    try:
        with pytest.raises(ConnectionFailed, match="answered JSON that is not Appwrite's"):
            connect_target(
                Workspace(tmp_path), site_env(f"http://127.0.0.1:{httpd.server_address[1]}/v1")
            )
    finally:
        httpd.shutdown()


def test_a_redirect_to_another_host_does_not_carry_the_key(
    tmp_path: Path, site_env: Callable[[str], Environment]
) -> None:
    login, login_handler = _site()
    login_url = f"http://localhost:{login.server_address[1]}/login"
    proxy, proxy_handler = _site(status=302, body=b"", location=login_url)
    try:
        with pytest.raises(ConnectionFailed, match="answered HTML"):
            connect_target(
                Workspace(tmp_path), site_env(f"http://127.0.0.1:{proxy.server_address[1]}/v1")
            )
    finally:
        login.shutdown()
        proxy.shutdown()
    assert proxy_handler.seen_headers[0]["x-appwrite-key"].startswith("sk-")
    assert login_handler.seen_headers  # followed, as the SDK follows
    assert all("x-appwrite-key" not in seen for seen in login_handler.seen_headers)


def test_a_silent_endpoint_names_the_timeout_and_the_setting(
    tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILENT_KEY", server.api_key)
    monkeypatch.setenv("WORKBOOK_HTTP_TIMEOUT", "0.3")
    env = Environment(
        name="silent",
        project=server.project_id,
        database=DB,
        key_env="SILENT_KEY",
        endpoint=server.endpoint,
    )
    server.inject_fault(kind="hang", times=-1, method="GET", path=f"/tablesdb/{DB}$")
    started = time.monotonic()
    try:
        with pytest.raises(ConnectionFailed) as caught:
            connect_target(Workspace(tmp_path), env)
    finally:
        server.clear_faults()
    assert time.monotonic() - started < 30
    failure = caught.value
    assert (
        f"{server.endpoint} (environment 'silent') did not answer within 0.3 s" in failure.message
    )
    assert "http_timeout" in str(failure.hint) and "WORKBOOK_HTTP_TIMEOUT" in str(failure.hint)
    assert server.api_key not in str(failure)


@pytest.mark.parametrize("status", [404, 502])
def test_a_proxy_page_in_a_step_is_one_line_and_never_gone(status: int) -> None:
    """A 404 page from something that is not Appwrite does not mean 'already deleted'."""
    httpd, handler = _site(status=status)
    client = RetryingClient(FAST, timeout=TIMEOUT)
    client.set_endpoint(f"http://127.0.0.1:{httpd.server_address[1]}/v1").set_project("p")
    try:
        error, _ = _timed(lambda: TablesDB(client).delete_table(DB, "t"))
    finally:
        httpd.shutdown()
    assert getattr(error, "code", None) == status and not is_gone(error)
    assert len(handler.seen_headers) == (FAST.tries if status == 502 else 1)
    failed = step_failed("delete_table t", error)
    assert failed.message == f"delete_table t failed: HTTP {status} with HTML, not Appwrite's JSON"
