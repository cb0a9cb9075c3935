"""Done when (issue 7): adopting a project end to end, in-process against a real local server.

A database populated outside Workbook → ``init`` → ``schema pull`` → ``create --baseline``
→ ``stamp`` → ``status`` shows the baseline applied and ``verify`` is clean; a fresh
environment built by ``up`` from the baseline (a real kernel) pulls the same schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused, snapshot
from sdk_support import tables_for
from shop_schema import COLUMNS, INDEXES, build_shop

SCHEMA_DELAY = 0.0  # these tests are about schemas, not about waiting for builds


def tables_db(server: Any) -> TablesDB:
    return tables_for(server)


def populate(server: Any, database: str) -> None:
    """A project's database as its team built it, without Workbook."""
    tables = tables_db(server)
    build_shop(tables, database, COLUMNS, INDEXES, inline=5)
    tables.create_row(database, "customers", "ada", {"name": "Ada", "email": "ada@example.com"})


def comparable(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in t.items() if k != "databaseId"} for t in config["tables"]]


def test_adopt_an_existing_project_end_to_end(tmp_path: Path, server: Any) -> None:
    populate(server, "shop")
    tables_db(server).create("fresh", "Fresh")  # an empty environment to build from the baseline
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".gitignore").write_text("node_modules/", encoding="utf-8")
    ws = CliWorkspace(repo)

    made = ws.run("init")
    assert made.code == 0, made.output
    for name in (
        "workbook.toml",
        "migrations",
        "notebooks/migration_template.ipynb",
        "notebooks/status.ipynb",
        "notebooks/history.ipynb",
        "migrations/workbook.sum",
    ):
        assert (repo / name).exists(), name
    ignore = (repo / ".gitignore").read_text().splitlines()
    assert ignore[0] == "node_modules/" and "history/local/" in ignore
    assert "history/*/backups/" in ignore
    before = snapshot(repo)
    assert_refused(ws.run("init"), "a workspace already", unchanged=(repo, before))

    add_environment(ws, server, name="prod", database="shop")
    add_environment(ws, server, name="fresh", database="fresh")

    pulled = ws.run("schema", "pull", "--env", "prod", "-o", "schema/appwrite.config.json")
    assert pulled.code == 0, pulled.output
    config = json.loads((repo / "schema/appwrite.config.json").read_text())
    assert [t["$id"] for t in config["tables"]] == ["customers", "notes"]  # no ledger, no lock
    assert config["tablesDB"] == [{"$id": "shop", "name": "Shop", "enabled": True}]
    stdout = ws.run("schema", "pull", "--env", "prod")
    assert stdout.code == 0 and json.loads(stdout.stdout) == config

    assert_refused(ws.run("status", "--env", "prod"), "no ledger", "workbook stamp")
    created = ws.run("create", "--name", "baseline", "--baseline", "--env", "prod")
    assert created.code == 0, created.output
    notebook = (repo / "migrations/001_baseline.ipynb").read_text()
    assert "wb.create_table(" in notebook and 'wb.delete_table(\\"customers\\")' in notebook
    again = ws.run("create", "--name", "baseline2", "--baseline", "--env", "prod")
    assert_refused(again, "a baseline is the first migration")

    stamped = ws.run("stamp", "001", "--env", "prod")
    assert stamped.code == 0, stamped.output
    status = ws.run("status", "--env", "prod", "--json")
    assert status.code == 0, status.output
    rows = json.loads(status.stdout)["migrations"]
    assert [(r["version"], r["state"]) for r in rows] == [("001", "stamped")]
    verified = ws.run("verify", "--env", "prod")
    assert verified.code == 0, verified.output

    replayed = ws.run("schema", "expected", "-o", "expected.json")  # a scratch server
    assert replayed.code == 0, replayed.output
    assert comparable(json.loads((repo / "expected.json").read_text())) == comparable(config)
    cached = list((repo / ".workbook/replay").glob("*.db"))
    assert len(cached) == 1  # one migration, one cached database
    matches = ws.run("diff", "--env", "prod", "--exit-code")  # default: --expected, cached
    assert matches.code == 0 and "matches the expected schema" in matches.stdout, matches.output

    built = ws.run("up", "--env", "fresh", "--no-backup")
    assert built.code == 0, built.output
    fresh = ws.run("schema", "pull", "--env", "fresh")
    assert fresh.code == 0, fresh.output
    assert comparable(json.loads(fresh.stdout)) == comparable(config)

    # a replay runs only what is new (001 is cached) and names a migration that fails
    assert ws.run("create", "--name", "boom").code == 0
    boom = repo / "migrations/002_boom.ipynb"
    boom.write_text(boom.read_text().replace("wb.plan", 'raise RuntimeError(\\"boom\\")', 1))
    failed = ws.run("schema", "expected")
    assert_refused(failed, "the replay stopped at migration 002_boom", "RuntimeError")
    kept = failed.stderr.split("shows where: ")[1].split()[0]
    assert Path(kept).is_file() and len(list((repo / ".workbook/replay").glob("*.db"))) == 1
    # a dry run still plans when its lint cannot replay, and says why in place of findings
    planned = ws.run("up", "--env", "prod", "--dry-run")
    assert "lint: not run: the replay stopped at migration 002_boom" in planned.stdout, (
        planned.output
    )
