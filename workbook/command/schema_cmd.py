"""``workbook schema …``: the live schema of an environment, as the Appwrite CLI writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbook.command.commands import opened
from workbook.core.config import Workspace
from workbook.core.ledger import WORKBOOK_TABLES
from workbook.core.schema import Schema, snapshot


def live_schema(workspace: Workspace, env: str | None) -> Schema:
    """The environment's tables, without Workbook's own (ledger, lock)."""
    with opened(workspace, env, catalog=[], adopted=False) as o:
        schema = snapshot(o.target.client, o.environment.database)
    schema.tables = [t for t in schema.tables if t.get("$id") not in WORKBOOK_TABLES]
    if not schema.project_id or o.environment.is_local:
        schema.project_id = o.environment.project
    return schema


def pull(workspace: Workspace, env: str | None, output: Path | None = None) -> dict[str, Any]:
    """The live schema in ``appwrite.config.json`` form; written to ``output`` if given."""
    data = live_schema(workspace, env).to_appwrite_json()
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(data, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    return data
