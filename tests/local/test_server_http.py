"""The HTTP edge of the local server through the official SDK: health, auth and scopes, error
bodies, unknown routes, malformed and oversized bodies, and both ways of starting it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from local_support import error_of, raw
from sdk_support import tables_for

from workbook.local.server import LocalServer, start_local_server


def _headers(server: LocalServer, **extra: str) -> dict[str, str]:
    return {"X-Appwrite-Project": server.project_id, "X-Appwrite-Key": server.api_key, **extra}


def test_health_version_is_public(local_server: LocalServer) -> None:
    response = requests.get(local_server.endpoint + "/health/version", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"version": "1.9.6"}


def test_health_needs_a_valid_key(local_server: LocalServer, client: Client) -> None:
    assert raw(client, "get", "/health") == {"name": "http", "status": "pass", "ping": 0}
    response = requests.get(
        local_server.endpoint + "/health",
        headers={"X-Appwrite-Project": local_server.project_id, "X-Appwrite-Key": "nope"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["type"] == "user_unauthorized"


def test_missing_project_is_forbidden(local_server: LocalServer) -> None:
    client = Client().set_endpoint(local_server.endpoint).set_key(local_server.api_key)
    error = error_of(TablesDB(client).list)
    assert (error.code, error.type) == (401, "general_access_forbidden")


def test_unknown_project_is_not_found(local_server: LocalServer) -> None:
    client = Client().set_endpoint(local_server.endpoint).set_project("other")
    error = error_of(TablesDB(client.set_key(local_server.api_key)).list)
    assert (error.code, error.type) == (404, "project_not_found")


def test_wrong_key_is_unauthorized(local_server: LocalServer) -> None:
    client = Client().set_endpoint(local_server.endpoint).set_project(local_server.project_id)
    error = error_of(TablesDB(client.set_key("wrong")).list)
    assert (error.code, error.type) == (401, "user_unauthorized")
    assert "wrong" not in error.message


def test_missing_key_lacks_scopes(local_server: LocalServer) -> None:
    client = Client().set_endpoint(local_server.endpoint).set_project(local_server.project_id)
    error = error_of(TablesDB(client).list)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    assert "databases.read" in error.message


def test_limited_key_reads_but_cannot_write(
    local_server: LocalServer, database_id: str, read_only_key: str
) -> None:
    client = Client().set_endpoint(local_server.endpoint).set_project(local_server.project_id)
    limited = TablesDB(client.set_key(read_only_key))
    assert limited.get(database_id).id == database_id
    error = error_of(limited.create_table, database_id, "t", "t")
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    assert '"tables.write"' in error.message
    error = error_of(limited.create_varchar_column, database_id, "t", "k", 10, False)
    assert error.type == "general_unauthorized_scope"


def test_unknown_route_and_method(local_server: LocalServer) -> None:
    for method, path in (
        ("GET", "/nothing/here"),
        ("POST", "/tablesdb/x/unknown"),
        ("PATCH", "/tablesdb"),
    ):
        response = requests.request(
            method, local_server.endpoint + path, headers=_headers(local_server), timeout=10
        )
        assert response.status_code == 404
        body = response.json()
        assert body["type"] == "general_route_not_found"
        assert set(body) == {"message", "code", "type", "version"}


def test_malformed_json_is_a_400(local_server: LocalServer) -> None:
    for payload in ("{not json", "[1, 2]", '"text"'):
        response = requests.post(
            local_server.endpoint + "/tablesdb",
            data=payload,
            headers=_headers(local_server, **{"content-type": "application/json"}),
            timeout=10,
        )
        assert response.status_code == 400
        assert response.json()["type"] == "general_argument_invalid"


def test_oversized_body_is_refused_and_server_survives(local_server: LocalServer) -> None:
    big = json.dumps({"databaseId": "big", "name": "x" * (13 * 1024 * 1024)})
    response = requests.post(
        local_server.endpoint + "/tablesdb",
        data=big,
        headers=_headers(local_server, **{"content-type": "application/json"}),
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["type"] == "general_argument_invalid"
    assert requests.get(local_server.endpoint + "/health/version", timeout=10).ok


def test_missing_and_invalid_params_read_like_utopia(tables: TablesDB, client: Client) -> None:
    error = error_of(raw, client, "post", "/tablesdb", {"name": "x"})
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert error.message == 'Param "databaseId" is not optional.'
    error = error_of(tables.create, "_bad", "x")
    assert error.message.startswith("Invalid `databaseId` param: ")
    error = error_of(tables.create, "x" * 37, "x")
    assert error.type == "general_argument_invalid"


def test_delete_answers_204_with_a_non_json_content_type(
    local_server: LocalServer, tables: TablesDB
) -> None:
    tables.create("gone", "gone")
    response = requests.delete(
        local_server.endpoint + "/tablesdb/gone",
        headers=_headers(local_server, **{"content-type": "application/json"}),
        timeout=10,
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["content-type"].startswith("text/html")


def test_repr_never_shows_the_key(local_server: LocalServer) -> None:
    assert local_server.api_key not in repr(local_server)


def test_process_mode_serves_and_stops(tmp_path: Path) -> None:
    with start_local_server(tmp_path / "p.db", mode="process", api_key="k" * 32) as server:
        assert server.pid and server.pid != os.getpid()
        tables = tables_for(server)
        tables.create("main", "Main")
        assert [d.id for d in tables.list().databases] == ["main"]
        command = subprocess.run(
            ["ps", "-o", "args=", "-p", str(server.pid)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "k" * 32 not in command.stdout
    assert not _alive(server.pid)
    with start_local_server(tmp_path / "p.db", api_key="k" * 32) as again:
        client = Client().set_endpoint(again.endpoint).set_project(again.project_id)
        assert [d.id for d in TablesDB(client.set_key("k" * 32)).list().databases] == ["main"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_module_entry_point_takes_the_key_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBOOK_LOCAL_KEY": "env-key"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbook.local",
            "serve",
            "--db",
            str(tmp_path / "m.db"),
            "--project",
            "proj",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "env-key" not in line
        endpoint = line.split()[3]
        client = Client().set_endpoint(endpoint).set_project("proj").set_key("env-key")
        assert TablesDB(client).list().total == 0
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_unexpected_errors_answer_500_json_and_the_server_keeps_serving(tmp_path: Path) -> None:
    with start_local_server(tmp_path / "broken.db") as server:
        tables = tables_for(server)
        tables.create("d", "d")
        tables.create_table(
            "d", "t", "t", columns=[{"key": "k", "type": "integer", "required": False}]
        )
        with sqlite3.connect(server.db_path) as conn:
            conn.execute("UPDATE wb_columns SET definition = '{broken' WHERE key = 'k'")
        response = requests.get(
            server.endpoint + "/tablesdb/d/tables/t/columns/k", headers=_headers(server), timeout=10
        )
        assert response.status_code == 500
        assert response.json() == {
            "message": "Server Error",
            "code": 500,
            "type": "general_unknown",
            "version": "1.9.6",
        }
        assert "Traceback" not in response.text
        assert tables.get("d").id == "d"


def test_port_in_use_is_a_clear_error(local_server: LocalServer, tmp_path: Path) -> None:
    from workbook.local.server import LocalServerError

    with pytest.raises(LocalServerError, match="cannot listen") as caught:
        start_local_server(tmp_path / "x.db", port=local_server.port)
    assert caught.value.hint and "another port" in caught.value.hint
