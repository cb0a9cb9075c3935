"""The official Appwrite CLI (npm `appwrite-cli@12`) pushes and pulls a schema unchanged.

What CLI 12.0.1 sends (read in its source, confirmed with the server's request log):
- `appwrite client --endpoint E --project-id P --key K`: `GET /v1/health/version` with
  project `console` and no key; writes E and K to `$HOME/.appwrite/prefs.json`, P to
  `./appwrite.config.json`. Every later call sends `X-Appwrite-Project`, `X-Appwrite-Key`,
  `X-Appwrite-Mode: default`, `X-Appwrite-Response-Format: 1.8.0`.
- `push tables --all --force`: `GET /v1/tablesdb` (limit/offset pages), `POST /v1/tablesdb`
  `{databaseId, name, enabled}`, `GET …/tables`, `GET …/tables/{t}` (404 = create),
  `POST …/tables` `{tableId, name, rowSecurity, permissions}`; then the LEGACY routes
  `POST /v1/databases/{db}/collections/{t}/attributes/<string|email|url|ip|enum|integer|
  float|boolean|datetime>` `{key, required, default, array, size?, min?, max?, elements?}`,
  `PATCH …/attributes/<type>/{key}`, `DELETE …/attributes/{key}`, `POST …/indexes`
  `{key, type, attributes, orders}`, polling `GET …/attributes` / `…/indexes` every 2 s
  until every key is `available`. It knows only `string`, not `varchar`/`text`.
- `pull tables --all`: `GET /v1/tablesdb`, `GET /v1/tablesdb/{db}`, `GET …/tables` pages.
- `push|pull collections`: the same through `/v1/databases[/{db}[/collections…]]` only.

The CLI keeps its key in `$HOME`; the test gives it a temporary HOME, so no key is ever
written inside the repository.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appwrite.services.tables_db import TablesDB
from sdk_support import tables_for

from workbook.local.server import LocalServer, start_local_server

ROOT = Path(__file__).resolve().parents[2]
NODE_PREFIX = ROOT / ".cache" / "node"
CLI = NODE_PREFIX / "node_modules" / ".bin" / "appwrite"
CLI_TIMEOUT = 90

DATABASE = {"$id": "shop", "name": "Shop", "enabled": True}

CUSTOMERS: dict[str, Any] = {
    "$id": "customers",
    "$permissions": [],
    "databaseId": "shop",
    "name": "Customers",
    "enabled": True,
    "rowSecurity": False,
    "columns": [
        {
            "key": "name",
            "type": "string",
            "required": True,
            "array": False,
            "size": 128,
            "default": None,
        },
        {
            "key": "email",
            "type": "string",
            "required": True,
            "array": False,
            "format": "email",
            "default": None,
        },
        {
            "key": "age",
            "type": "integer",
            "required": False,
            "array": False,
            "min": 0,
            "max": 150,
            "default": 18,
        },
        {"key": "vip", "type": "boolean", "required": False, "array": False, "default": False},
        {
            "key": "joinedAt",
            "type": "datetime",
            "required": False,
            "array": False,
            "format": "datetime",
            "default": None,
        },
        {
            "key": "tier",
            "type": "string",
            "required": False,
            "array": False,
            "format": "enum",
            "elements": ["free", "pro", "enterprise"],
            "default": "free",
        },
    ],
    "indexes": [
        {"key": "email_unique", "type": "unique", "columns": ["email"], "orders": ["ASC"]},
        {"key": "tier_age", "type": "key", "columns": ["tier", "age"], "orders": ["ASC", "DESC"]},
    ],
}

ORDERS: dict[str, Any] = {
    "$id": "orders",
    "$permissions": ['read("any")'],
    "databaseId": "shop",
    "name": "Orders",
    "enabled": True,
    "rowSecurity": True,
    "columns": [
        {
            "key": "customerId",
            "type": "string",
            "required": True,
            "array": False,
            "size": 36,
            "default": None,
        },
        {
            "key": "quantity",
            "type": "integer",
            "required": True,
            "array": False,
            "min": 1,
            "max": 1000,
            "default": None,
        },
        {"key": "paid", "type": "boolean", "required": True, "array": False, "default": None},
        {
            "key": "placedAt",
            "type": "datetime",
            "required": True,
            "array": False,
            "format": "datetime",
            "default": None,
        },
        {
            "key": "tags",
            "type": "string",
            "required": False,
            "array": True,
            "size": 32,
            "default": None,
        },
    ],
    "indexes": [
        {
            "key": "by_customer",
            "type": "key",
            "columns": ["customerId", "placedAt"],
            "orders": ["ASC", "DESC"],
        },
    ],
}


def ensure_cli() -> Path:
    """Install the CLI like `./dev setup` does; one installer at a time across workers."""
    if CLI.exists():
        return CLI
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so the official Appwrite CLI cannot be installed")
    NODE_PREFIX.mkdir(parents=True, exist_ok=True)
    with open(NODE_PREFIX / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not CLI.exists():
            subprocess.run(
                [
                    "npm",
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(NODE_PREFIX),
                    "appwrite-cli@12",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
    return CLI


class Cli:
    """Runs the CLI non-interactively with its own HOME (where it keeps the key)."""

    def __init__(self, binary: Path, home: Path, server: LocalServer) -> None:
        self.binary, self.home, self.server = binary, home, server

    def run(self, cwd: Path, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "CI": "1",
        }
        done = subprocess.run(
            [str(self.binary), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
        )
        output = (done.stdout + done.stderr).replace(self.server.api_key, "<key>")
        assert done.returncode == 0, f"appwrite {' '.join(args)} failed:\n{output}"
        assert "Error" not in output, f"appwrite {' '.join(args)} reported an error:\n{output}"
        return output

    def link(self, folder: Path) -> None:
        """`appwrite client` is the CLI's own way to set endpoint, project and key."""
        folder.mkdir(parents=True, exist_ok=True)
        self.run(
            folder,
            "client",
            "--endpoint",
            self.server.endpoint,
            "--project-id",
            self.server.project_id,
            "--key",
            self.server.api_key,
        )


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    # By default the CLI first sees `processing` and has to poll (every 2 s, its own pace).
    delay = getattr(request, "param", 0.05)
    running = start_local_server(tmp_path / "local.sqlite", schema_delay=delay)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def cli(tmp_path: Path, server: LocalServer) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(ensure_cli(), home, server)


def write_config(folder: Path, project_id: str, **resources: Any) -> None:
    config = {"projectId": project_id, "projectName": "Workbook local", **resources}
    (folder / "appwrite.config.json").write_text(json.dumps(config, indent=4))


def as_collection(table: dict[str, Any]) -> dict[str, Any]:
    """The same schema in the legacy (`collections`) section of appwrite.config.json."""
    collection = {k: v for k, v in table.items() if k not in ("rowSecurity", "columns")}
    collection["documentSecurity"] = table["rowSecurity"]
    collection["attributes"] = copy.deepcopy(table["columns"])
    collection["indexes"] = [
        {"key": i["key"], "type": i["type"], "attributes": i["columns"], "orders": i["orders"]}
        for i in table["indexes"]
    ]
    return collection


def as_table(collection: dict[str, Any]) -> dict[str, Any]:
    table = {k: v for k, v in collection.items() if k not in ("documentSecurity", "attributes")}
    table["rowSecurity"] = collection["documentSecurity"]
    table["columns"] = collection["attributes"]
    table["indexes"] = [
        {**{k: v for k, v in i.items() if k != "attributes"}, "columns": i["attributes"]}
        for i in collection["indexes"]
    ]
    return table


def normalized_column(column: dict[str, Any]) -> dict[str, Any]:
    """The part of a column that defines it; what the server adds on its own is dropped."""
    out = {k: column.get(k) for k in ("key", "type", "required", "array", "default")}
    out["array"] = bool(out["array"])
    fmt = column.get("format") or None
    if fmt:
        out["format"] = fmt
    if column["type"] == "string" and not fmt:
        out["size"] = column["size"]
    if column["type"] in ("integer", "double"):
        out["min"], out["max"] = column["min"], column["max"]
    if fmt == "enum":
        out["elements"] = list(column["elements"])
    return out


def normalized_table(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "$id": table["$id"],
        "databaseId": table["databaseId"],
        "name": table["name"],
        "enabled": table["enabled"],
        "rowSecurity": table["rowSecurity"],
        "$permissions": sorted(table["$permissions"]),
        "columns": sorted((normalized_column(c) for c in table["columns"]), key=lambda c: c["key"]),
        "indexes": sorted(
            (
                {
                    "key": i["key"],
                    "type": i["type"],
                    "columns": list(i["columns"]),
                    "orders": [o.upper() for o in i.get("orders") or []],
                }
                for i in table["indexes"]
            ),
            key=lambda i: i["key"],
        ),
    }


def sdk(server: LocalServer) -> TablesDB:
    return tables_for(server)


def assert_schema_arrived(tables: TablesDB, expected: dict[str, Any]) -> None:
    """Read the pushed schema back through the Python SDK, column by column."""
    table_id = expected["$id"]
    table = tables.get_table("shop", table_id)
    assert table.name == expected["name"]
    assert table.rowsecurity == expected["rowSecurity"]
    assert sorted(table.permissions) == sorted(expected["$permissions"])
    for want in expected["columns"]:
        got = tables.get_column("shop", table_id, want["key"]).to_dict()
        assert got["status"] == "available", got
        assert got["type"] == want["type"], got
        assert got["required"] == want["required"], got
        assert bool(got.get("array")) == want["array"], got
        assert got.get("default") == want["default"], got
        if "format" in want:
            assert got["format"] == want["format"], got
        if "size" in want:
            assert got["size"] == want["size"], got
        if "min" in want:
            assert (got["min"], got["max"]) == (want["min"], want["max"]), got
        if "elements" in want:
            assert got["elements"] == want["elements"], got
    for want in expected["indexes"]:
        got = tables.get_index("shop", table_id, want["key"]).to_dict()
        assert got["status"] == "available", got
        assert got["type"] == want["type"], got
        assert got["columns"] == want["columns"], got
        assert [o.upper() for o in got["orders"]] == want["orders"], got


def test_push_then_pull_round_trips_the_schema(
    tmp_path: Path, server: LocalServer, cli: Cli
) -> None:
    pushed = [copy.deepcopy(CUSTOMERS), copy.deepcopy(ORDERS)]
    push_dir = tmp_path / "push"
    cli.link(push_dir)
    write_config(push_dir, server.project_id, tablesDB=[DATABASE], tables=pushed)

    output = cli.run(push_dir, "push", "tables", "--all", "--force")
    assert "Successfully pushed 2 tables" in output, output

    tables = sdk(server)
    assert [d.id for d in tables.list().databases] == ["shop"]
    for expected in pushed:
        assert_schema_arrived(tables, expected)

    pull_dir = tmp_path / "pull"
    cli.link(pull_dir)
    output = cli.run(pull_dir, "pull", "tables", "--all")
    assert "Successfully pulled 2 tables" in output, output
    pulled = json.loads((pull_dir / "appwrite.config.json").read_text())

    assert pulled["tablesDB"] == [DATABASE]
    by_id = {t["$id"]: t for t in pulled["tables"]}
    assert sorted(by_id) == ["customers", "orders"]
    for expected in pushed:
        assert normalized_table(by_id[expected["$id"]]) == normalized_table(expected)

    # The pulled file pushed back is a no-op: the CLI sees nothing to recreate or delete.
    again = cli.run(pull_dir, "push", "tables", "--all", "--force")
    assert "Successfully pushed 0 tables" in again, again
    for word in ("recreating", "deleting", "adding", "Creating"):
        assert word not in again, again


def api_paths(server: LocalServer) -> set[str]:
    return {e["path"] for e in server.request_log() if not e["path"].startswith("/v1/health")}


@pytest.mark.parametrize("server", [0.0], indirect=True)
def test_deprecated_collection_commands_use_the_legacy_api(
    tmp_path: Path, server: LocalServer, cli: Cli
) -> None:
    """`push collections` / `pull collections` talk only to `/v1/databases/...`."""
    pushed = as_collection(CUSTOMERS)
    push_dir = tmp_path / "push"
    cli.link(push_dir)
    write_config(push_dir, server.project_id, databases=[DATABASE], collections=[pushed])
    server.clear_request_log()

    output = cli.run(push_dir, "push", "collections", "--all", "--force")
    assert "Successfully pushed 1 collections" in output, output
    used = api_paths(server)
    tables = sdk(server)
    assert tables.get("shop").type.value == "legacy"
    assert_schema_arrived(tables, CUSTOMERS)

    pull_dir = tmp_path / "pull"
    cli.link(pull_dir)
    server.clear_request_log()
    output = cli.run(pull_dir, "pull", "collections", "--all")
    used |= api_paths(server)
    assert "Successfully pulled 1 collections from 1 databases" in output, output
    pulled = json.loads((pull_dir / "appwrite.config.json").read_text())
    assert pulled["databases"] == [DATABASE]
    [collection] = pulled["collections"]
    assert normalized_table(as_table(collection)) == normalized_table(CUSTOMERS)
    assert used and all(p.startswith("/v1/databases") for p in used), sorted(used)


@pytest.mark.parametrize("server", [0.0], indirect=True)
def test_push_of_a_changed_schema_adds_updates_and_deletes(
    tmp_path: Path, server: LocalServer, cli: Cli
) -> None:
    """A second push diffs against the server: new column and index, changed bounds and
    default (legacy PATCH), a removed column (legacy DELETE)."""
    folder = tmp_path / "project"
    cli.link(folder)
    write_config(folder, server.project_id, tablesDB=[DATABASE], tables=[CUSTOMERS])
    cli.run(folder, "push", "tables", "--all", "--force")

    changed = copy.deepcopy(CUSTOMERS)
    columns = {c["key"]: c for c in changed["columns"]}
    columns["age"].update({"max": 120, "default": 21})
    del columns["vip"]
    columns["nickname"] = {
        "key": "nickname",
        "type": "string",
        "required": False,
        "array": False,
        "size": 32,
        "default": "anon",
    }
    changed["columns"] = list(columns.values())
    changed["indexes"].append(
        {"key": "by_joined", "type": "key", "columns": ["joinedAt"], "orders": ["DESC"]}
    )
    write_config(folder, server.project_id, tablesDB=[DATABASE], tables=[changed])
    output = cli.run(folder, "push", "tables", "--all", "--force")
    assert "Successfully pushed 1 tables" in output, output

    tables = sdk(server)
    assert_schema_arrived(tables, changed)
    keys = {
        c["key"]
        for c in tables.client.call(
            "get",
            "/tablesdb/shop/tables/customers/columns",
            {"X-Appwrite-Project": server.project_id},
        )["columns"]
    }
    assert keys == set(columns)


RELATIONSHIP = {
    "key": "customer",
    "type": "relationship",
    "required": False,
    "array": False,
    "relatedTable": "customers",
    "relationType": "manyToOne",
    "twoWay": True,
    "twoWayKey": "orders",
    "onDelete": "cascade",
    "side": "parent",
}
REL_FIELDS = ("key", "type", "relatedTable", "relationType", "twoWay", "twoWayKey", "onDelete")


def test_push_and_pull_of_relationship_columns(
    tmp_path: Path, server: LocalServer, cli: Cli
) -> None:
    """A two-way relationship pushed from appwrite.config.json arrives with both sides and
    is pulled back as the CLI wrote it."""
    customers = {**copy.deepcopy(CUSTOMERS), "indexes": []}
    orders = {
        "$id": "orders",
        "$permissions": [],
        "databaseId": "shop",
        "name": "Orders",
        "enabled": True,
        "rowSecurity": False,
        "columns": [dict(RELATIONSHIP)],
        "indexes": [],
    }
    push_dir = tmp_path / "push"
    cli.link(push_dir)
    write_config(push_dir, server.project_id, tablesDB=[DATABASE], tables=[customers, orders])
    output = cli.run(push_dir, "push", "tables", "--all", "--force")
    assert "Successfully pushed 2 tables" in output, output

    tables = sdk(server)
    parent = tables.get_column("shop", "orders", "customer").to_dict()
    child = tables.get_column("shop", "customers", "orders").to_dict()
    assert {k: parent[k] for k in ("side", "relatedTable", "relationType")} == {
        "side": "parent",
        "relatedTable": "customers",
        "relationType": "manyToOne",
    }
    assert (child["side"], child["relatedTable"], child["twoWayKey"]) == (
        "child",
        "orders",
        "customer",
    )

    pull_dir = tmp_path / "pull"
    cli.link(pull_dir)
    output = cli.run(pull_dir, "pull", "tables", "--all")
    assert "Successfully pulled 2 tables" in output, output
    pulled = json.loads((pull_dir / "appwrite.config.json").read_text())
    by_id = {t["$id"]: t for t in pulled["tables"]}
    [column] = [c for c in by_id["orders"]["columns"] if c["key"] == "customer"]
    assert {k: column[k] for k in REL_FIELDS} == {k: RELATIONSHIP[k] for k in REL_FIELDS}
    again = cli.run(pull_dir, "push", "tables", "--all", "--force")
    assert "Successfully pushed 0 tables" in again, again
