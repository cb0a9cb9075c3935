"""The official node-appwrite SDK (installed into `.cache/node` by ./dev) against the local
server: relationships (nested rows included) and transactions
(tests/local/node/relations_transactions.mjs).

Without node or the SDK the test is skipped, except under CI=true, where it fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from workbook.local.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / ".cache" / "node" / "node_modules" / "node-appwrite" / "package.json"
SCRIPT = Path(__file__).parent / "node" / "relations_transactions.mjs"


def _node() -> str:
    node = shutil.which("node")
    if node is None or not SDK.exists():
        missing = "node" if node is None else "node-appwrite (./dev setup installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"{missing} is not installed")
        pytest.skip(f"{missing} is not installed")
    return node


def test_node_sdk_relationships_and_transactions(local_server: LocalServer) -> None:
    node = _node()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "NODE_SDK_PATH": str(SDK),
        "ENDPOINT": local_server.endpoint,
        "PROJECT": local_server.project_id,
        "KEY": local_server.api_key,
        "DATABASE": "node" + uuid.uuid4().hex[:12],
    }
    done = subprocess.run(
        [node, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "side": "parent",
        "relatedTable": "books",
        "childSide": "child",
        "childRelated": "authors",
        "plainHasBooks": False,
        "fullBooks": ["b1"],
        "restricted": "row_delete_restricted",
        "txStatus": "pending",
        "before": 1,
        "inside": 2,
        "committed": "committed",
        "after": [["b1", "Uno"], ["b2", "Two"]],
        "rolledBack": "failed",
        "conflict": "transaction_conflict",
        "b2": "theirs",
        "nested": ["Nine", "n", "Nest"],
        "byAuthor": ["b9"],
    }
