"""`Schema.to_appwrite_json()` against the official Appwrite CLI 12: it equals what
`appwrite pull tables` writes, and `appwrite push tables` of it rebuilds the same schema."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from shop_schema import CLI_COLUMNS, INDEXES, build_shop

from workbook.core.schema import snapshot
from workbook.local.server import start_local_server

CLI = Path(__file__).resolve().parents[1] / ".cache" / "node" / "node_modules" / ".bin" / "appwrite"
pytestmark = [
    pytest.mark.skipif(not CLI.exists(), reason="appwrite-cli 12 not installed (./dev setup)"),
    pytest.mark.timeout(240),
]


def _client(server: Any) -> Client:
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    return client.set_key(server.api_key)


def _cli(folder: Path, home: Path, server: Any, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "NO_COLOR": "1", "CI": "1"}
    done = subprocess.run(
        [str(CLI), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    output = (done.stdout + done.stderr).replace(server.api_key, "<key>")
    assert done.returncode == 0 and "Error" not in output, output
    return output


def _link(folder: Path, home: Path, server: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _cli(
        folder,
        home,
        server,
        "client",
        "--endpoint",
        server.endpoint,
        "--project-id",
        server.project_id,
        "--key",
        server.api_key,
    )


def test_export_equals_cli_pull_and_push_rebuilds_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    source = start_local_server(tmp_path / "source.db", schema_delay=0.0)
    target = start_local_server(tmp_path / "target.db", schema_delay=0.0)
    try:
        tables = TablesDB(_client(source))
        build_shop(tables, "shop", CLI_COLUMNS, INDEXES, inline=4)
        schema = snapshot(_client(source), "shop")
        exported = schema.to_appwrite_json()

        pull_dir = tmp_path / "pull"
        _link(pull_dir, home, source)
        _cli(pull_dir, home, source, "pull", "tables", "--all")
        pulled = json.loads((pull_dir / "appwrite.config.json").read_text())
        for table in pulled["tables"]:
            for index in table["indexes"]:
                index.pop("status", None)
        assert exported["tablesDB"] == pulled["tablesDB"]
        assert exported["tables"] == sorted(pulled["tables"], key=lambda t: t["$id"])

        push_dir = tmp_path / "push"
        _link(push_dir, home, target)
        (push_dir / "appwrite.config.json").write_text(
            json.dumps({**exported, "projectId": target.project_id}, indent=2)
        )
        output = _cli(push_dir, home, target, "push", "tables", "--all", "--force")
        assert "Successfully pushed 2 tables" in output, output
        rebuilt = snapshot(_client(target), "shop")
        assert rebuilt.fingerprint() == schema.fingerprint()
    finally:
        source.stop()
        target.stop()
