"""Fault injection and the request log, on a server of their own (faults are server-wide)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from local_support import error_of, wait_status

from workbook.local.server import LocalServer, LocalServerError, start_local_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with start_local_server(tmp_path_factory.mktemp("faults") / "f.db", schema_delay=0.01) as srv:
        yield srv


@pytest.fixture
def tables(server: LocalServer) -> Iterator[TablesDB]:
    server.clear_faults()
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    yield TablesDB(client.set_key(server.api_key))
    server.clear_faults()


def test_rate_limit_and_server_error_for_the_next_n_matching(
    server: LocalServer, tables: TablesDB
) -> None:
    server.inject_fault(kind="rate_limit", times=2, method="GET", path=r"^/v1/tablesdb$")
    tables.create("rl", "rl")
    for _ in range(2):
        error = error_of(tables.list)
        assert (error.code, error.type) == (429, "general_rate_limit_exceeded")
    assert tables.list().total >= 1
    server.inject_fault(kind="server_error", path="/tablesdb/rl$")
    error = error_of(tables.get, "rl")
    assert (error.code, error.type, error.message) == (500, "general_unknown", "Server Error")
    assert tables.get("rl").id == "rl"


def test_reset_drops_the_connection(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="reset")
    error = error_of(tables.list)
    assert isinstance(error.__context__, requests.ConnectionError)
    assert tables.list() is not None


def test_latency_delays_but_answers(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="latency", seconds=0.05, times=1)
    assert tables.list() is not None
    entry = [e for e in server.request_log() if e["path"] == "/v1/tablesdb"][-1]
    assert entry["duration"] >= 0.05


@pytest.mark.parametrize("outcome", ["failed", "stuck", "processing"])
def test_schema_faults(server: LocalServer, tables: TablesDB, outcome: str) -> None:
    database = f"sf{outcome}"
    tables.create(database, database)
    tables.create_table(database, "t", "t")
    server.inject_fault(kind="column", key="c", table="t", outcome=outcome, error="disk full")
    server.inject_fault(kind="index", key="i", outcome=outcome)
    tables.create_integer_column(database, "t", "c", False)
    tables.create_integer_column(database, "t", "ok", False)
    client = tables.client
    column = wait_status(client, database, "t", "c", until=(outcome,))
    assert column["status"] == outcome
    assert column["error"] == ("disk full" if outcome in ("failed", "stuck") else "")
    wait_status(client, database, "t", "ok")
    tables.create_index(database, "t", "i", "key", ["ok"])
    assert (
        wait_status(client, database, "t", "i", index=True, until=(outcome,))["status"] == outcome
    )
    tables.delete_column(database, "t", "c")
    tables.delete_index(database, "t", "i")


def test_request_log_records_every_request(server: LocalServer, tables: TablesDB) -> None:
    server.clear_request_log()
    tables.create("logged", "logged")
    error_of(tables.get, "nope")
    log = server.request_log()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/v1/tablesdb", 201),
        ("GET", "/v1/tablesdb/nope", 404),
    ]
    assert all(isinstance(e["time"], float) for e in log)


def test_admin_routes_need_the_server_key(server: LocalServer) -> None:
    response = requests.get(
        server.endpoint.removesuffix("/v1") + "/_workbook/requests",
        headers={"X-Appwrite-Key": "wrong"},
        timeout=10,
    )
    assert response.status_code == 401
    with pytest.raises(LocalServerError):
        server.inject_fault(kind="meteor")


def test_server_keeps_serving_under_concurrent_faults(
    server: LocalServer, tables: TablesDB
) -> None:
    server.inject_fault(kind="server_error", times=5, path="/v1/tablesdb$")
    failures: list[int] = []

    def call() -> None:
        try:
            tables.list()
        except Exception as exc:  # noqa: BLE001 - counting the injected failures
            failures.append(getattr(exc, "code", 0))

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [500] * 5
    assert tables.list() is not None


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with (
        start_local_server(db, mode="process", api_key="shared-key") as first,
        start_local_server(db, mode="process", api_key="shared-key") as second,
    ):
        one = TablesDB(
            Client()
            .set_endpoint(first.endpoint)
            .set_project(first.project_id)
            .set_key("shared-key")
        )
        two = TablesDB(
            Client()
            .set_endpoint(second.endpoint)
            .set_project(second.project_id)
            .set_key("shared-key")
        )
        one.create("shared", "shared")
        one.create_table(
            "shared", "t", "t", columns=[{"key": "n", "type": "integer", "required": False}]
        )
        two.create_rows("shared", "t", [{"n": i} for i in range(50)])
        assert one.list_rows("shared", "t").total == 50
        two.create_integer_column("shared", "t", "m", False)
        assert wait_status(one.client, "shared", "t", "m")["status"] == "available"


def _get(server: LocalServer, path: str = "/tablesdb", timeout: float = 10) -> requests.Response:
    """A plain GET with a bound (the SDK's own client has none, and would wait for ever)."""
    return requests.get(
        server.endpoint + path,
        headers={"X-Appwrite-Project": server.project_id, "X-Appwrite-Key": server.api_key},
        timeout=timeout,
    )


def test_unavailable_answers_503(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="unavailable", method="GET", path=r"^/v1/tablesdb$")
    error = error_of(tables.list)
    assert (error.code, error.type) == (503, "general_server_error")
    assert tables.list() is not None


def test_lost_answer_commits_then_drops(server: LocalServer, tables: TablesDB) -> None:
    tables.create("lost", "lost")
    tables.create_table("lost", "t", "t", columns=[{"key": "n", "type": "integer"}])
    server.clear_request_log()
    server.inject_fault(kind="lost_answer", method="POST", path="/rows$")
    error = error_of(tables.create_row, "lost", "t", "r1", {"n": 1})
    assert not error.code and isinstance(error.__context__, requests.ConnectionError)
    assert tables.get_row("lost", "t", "r1").data["n"] == 1  # the write happened
    [entry] = [e for e in server.request_log() if e["method"] == "POST"]
    assert (entry["status"], entry["fault"]) == (201, "lost_answer")


def test_hang_holds_until_the_client_gives_up(server: LocalServer, tables: TablesDB) -> None:
    server.clear_request_log()
    server.inject_fault(kind="hang", method="GET", path=r"^/v1/tablesdb$")
    with pytest.raises(requests.ReadTimeout):
        _get(server, timeout=0.5)
    assert _get(server).status_code == 200  # one request only: the next one is answered
    entries = [e for e in server.request_log() if e["path"] == "/v1/tablesdb"]
    # the held request is logged when the server notices the client left: order is not fixed
    assert sorted((e["status"], e["fault"] or "") for e in entries) == [(0, "hang"), (200, "")]


def test_a_cleared_hang_serves_the_held_request(server: LocalServer, tables: TablesDB) -> None:
    tables.create("held", "held")
    server.inject_fault(kind="hang", method="POST", path="/tables$")
    answers: list[requests.Response] = []
    body = {"tableId": "late", "name": "late"}

    def create() -> None:
        answers.append(
            requests.post(
                server.endpoint + "/tablesdb/held/tables",
                json=body,
                headers={"X-Appwrite-Project": server.project_id, "X-Appwrite-Key": server.api_key},
                timeout=30,
            )
        )

    thread = threading.Thread(target=create)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and not answers  # held
    server.clear_faults()
    thread.join(10)
    assert [a.status_code for a in answers] == [201]  # the held body reached the handler
    assert tables.get_table("held", "late").name == "late"


def test_a_hang_ends_at_its_seconds(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="hang", method="GET", path=r"^/v1/tablesdb$", seconds=0.2)
    with pytest.raises(requests.ConnectionError):
        _get(server, timeout=10)  # dropped after 0.2 s, long before the client's bound


def test_times_minus_one_fires_until_cleared(server: LocalServer, tables: TablesDB) -> None:
    server.inject_fault(kind="rate_limit", times=-1, method="GET", path=r"^/v1/tablesdb$")
    assert [_get(server).status_code for _ in range(5)] == [429] * 5
    server.clear_faults()
    assert _get(server).status_code == 200


def test_probability_with_a_seed_is_reproducible(server: LocalServer, tables: TablesDB) -> None:
    def statuses() -> list[int]:
        server.clear_faults()
        server.inject_fault(
            kind="server_error", times=-1, probability=0.5, seed=7, path=r"^/v1/tablesdb$"
        )
        return [_get(server).status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 500}
    server.clear_faults()
    server.inject_fault(kind="server_error", times=-1, probability=0.0, path=r"^/v1/tablesdb$")
    assert {_get(server).status_code for _ in range(10)} == {200}


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "server_error", "probability": 1.5},
        {"kind": "server_error", "times": 0},
        {"kind": "hang", "seconds": -1},
        {"kind": "reset", "path": "("},
    ],
)
def test_invalid_request_faults_are_refused(server: LocalServer, spec: dict[str, object]) -> None:
    with pytest.raises(LocalServerError, match="Invalid fault"):
        server.inject_fault(**spec)
