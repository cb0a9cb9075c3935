"""Backups: what a run may destroy is exported first, and can be put back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB
from sdk_support import tables_for

from workbook.command import restore
from workbook.core import backup
from workbook.core.client import Target
from workbook.core.config import Environment


def test_export_then_restore_rows_keeps_ids_values_and_timestamps(server, tmp_path: Path) -> None:  # noqa: ANN001
    client = Client().set_endpoint(server.endpoint).set_project(server.project_id)
    client.set_key(server.api_key)
    tables = TablesDB(client)
    tables.create("main", "main")
    tables.create_table(
        "main",
        "posts",
        "Posts",
        columns=[
            {"key": "title", "type": "varchar", "size": 100, "required": True},
            {"key": "views", "type": "integer", "required": False},
            {"key": "tags", "type": "varchar", "size": 20, "array": True, "required": False},
        ],
    )
    rows = [
        {
            "$id": f"p{i:03d}",
            "title": f"post {i}",
            "views": i,
            "tags": ["a", str(i)],
            "$createdAt": "2024-01-02T03:04:05.000+00:00",
        }
        for i in range(250)
    ]
    for start in range(0, 250, 100):
        tables.create_rows("main", "posts", rows[start : start + 100])
    env = Environment(
        name="test",
        project=server.project_id,
        database="main",
        key_env="UNUSED",
        endpoint=server.endpoint,
    )
    target = Target(env, client, server.endpoint)

    dest = tmp_path / "backup"
    counts = backup.export_database(target, dest)
    assert counts == {"posts": 250}
    schema = json.loads((dest / "schema.json").read_text())
    assert [c["key"] for c in schema["tables"][0]["columns"]] == ["title", "views", "tags"]
    data = (dest / "posts.jsonl").read_bytes()
    assert len(data.splitlines()) == 250
    assert schema["files"]["posts"] == {"rows": 250, "sha256": hashlib.sha256(data).hexdigest()}
    assert sorted(p.name for p in dest.iterdir()) == ["posts.jsonl", "schema.json"]

    tables.delete_rows("main", "posts")  # the destructive step
    assert tables.list_rows("main", "posts").total == 0
    [posts] = restore.open_backup(dest).tables
    assert restore.restore_rows(target, posts) == 250
    back = tables.get_row("main", "posts", "p042")
    assert back.data["title"] == "post 42" and back.data["tags"] == ["a", "42"]
    assert back.createdat.startswith("2024-01-02T03:04:05")
    assert tables.list_rows("main", "posts").total == 250


def test_cli_restores_a_table_a_rollback_deleted(workspace, server) -> None:  # noqa: ANN001
    from cli_support import add_environment

    tables = tables_for(server)
    tables.create("main", "main")
    add_environment(workspace, server)
    assert workspace.run("up", "--env", "test", "--migration", "001").code == 0
    tables.update_row("main", "blog_posts", "rollbacks", {"title": "Edited after the seed"})
    assert workspace.run("down", "--env", "test").code == 0  # deletes blog_posts
    backups = sorted((workspace.root / "history/test/backups").iterdir())
    before_down = backups[-1]
    assert before_down.name.endswith("-before-001")

    missing = workspace.run("restore", str(before_down), "--env", "test", "--table", "nope")
    assert missing.code == 2 and "the backup has no table nope" in missing.stderr
    restored = workspace.run("restore", str(before_down), "--env", "test")
    assert restored.code == 0, restored.output
    assert "restored 3 row(s) of blog_posts" in restored.stdout
    row = tables.get_row("main", "blog_posts", "rollbacks")
    assert row.data["title"] == "Edited after the seed"
    slug_index = tables.get_index("main", "blog_posts", "slug_unique")
    assert slug_index.type == "unique"


def test_backup_none_refuses_a_destructive_run_unless_no_backup(workspace, server) -> None:  # noqa: ANN001
    """Through real kernels: with backups off, the seed write of 001 is refused before it is
    sent (the run fails, nothing is seeded); `--no-backup` is the explicit way through."""
    from cli_support import add_environment

    tables = TablesDB(
        Client()
        .set_endpoint(server.endpoint)
        .set_project(server.project_id)
        .set_key(server.api_key)
    )
    tables.create("main", "main")
    add_environment(workspace, server)
    with (workspace.root / "workbook.toml").open("a", encoding="utf-8") as toml:
        toml.write('backup = "none"\n')
    refused = workspace.run("up", "--env", "test", "--migration", "001")
    assert refused.code == 1, refused.output
    assert "upsert_rows would delete or rewrite data of table blog_posts" in refused.output
    assert tables.list_rows("main", "blog_posts").total == 0  # the write never left
    applied = workspace.run("up", "--env", "test", "--migration", "001", "--no-backup")
    assert applied.code == 0, applied.output
    assert tables.list_rows("main", "blog_posts").total == 3
    backups = workspace.root / "history/test/backups"
    assert [p.suffix for p in backups.iterdir()] == [".no-backup"]
