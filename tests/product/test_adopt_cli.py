"""Done when (issue 7): ``workbook schema pull`` → the official Appwrite CLI pushes that file
into an empty project → ``workbook schema pull`` of it gives the same schema."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_inproc import CliWorkspace, add_environment
from sdk_support import tables_for
from shop_schema import CLI_COLUMNS, INDEXES, build_shop

from workbook.local.server import start_local_server

CLI = Path(__file__).resolve().parents[2] / ".cache/node/node_modules/.bin/appwrite"

pytestmark = pytest.mark.skipif(
    not CLI.exists() and not os.environ.get("CI"),
    reason="appwrite-cli not installed (./dev setup); under CI=true this fails instead",
)


def populate(server: Any, database: str) -> None:
    build_shop(tables_for(server), database, CLI_COLUMNS, INDEXES[:1])


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    key = "adopt-" + os.urandom(8).hex()  # one key: add_environment keeps one variable
    source = start_local_server(tmp_path / "source.db", schema_delay=0.0, api_key=key)
    target = start_local_server(tmp_path / "target.db", schema_delay=0.0, api_key=key)
    try:
        yield source, target
    finally:
        source.stop()
        target.stop()


def appwrite(folder: Path, server: Any, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "NO_COLOR": "1", "CI": "1"}
    done = subprocess.run(
        [str(CLI), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    output = (done.stdout + done.stderr).replace(server.api_key, "<key>")
    assert done.returncode == 0 and "Error" not in output, output
    return output


def test_pulled_file_is_pushed_by_the_appwrite_cli_and_pulls_the_same(
    tmp_path: Path, servers: tuple[Any, Any]
) -> None:
    assert CLI.exists(), "appwrite-cli is missing: run ./dev setup"
    source, target = servers
    populate(source, "shop")
    ws = CliWorkspace(tmp_path / "repo")
    ws.root.mkdir()
    assert ws.run("init").code == 0
    add_environment(ws, source, name="source", database="shop")
    add_environment(ws, target, name="target", database="shop")
    pulled = ws.run("schema", "pull", "--env", "source", "-o", "push/appwrite.config.json")
    assert pulled.code == 0, pulled.output
    push = ws.root / "push"
    config = json.loads((push / "appwrite.config.json").read_text())
    config["projectId"] = target.project_id
    (push / "appwrite.config.json").write_text(json.dumps(config, indent=2))
    appwrite(
        push,
        target,
        "client",
        "--endpoint",
        target.endpoint,
        "--project-id",
        target.project_id,
        "--key",
        target.api_key,
    )
    output = appwrite(push, target, "push", "tables", "--all", "--force")
    assert "Successfully pushed 2 tables" in output, output
    again = ws.run("schema", "pull", "--env", "target")
    assert again.code == 0, again.output
    assert json.loads(again.stdout)["tables"] == config["tables"]
