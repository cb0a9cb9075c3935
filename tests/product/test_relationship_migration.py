"""A migration that adds a two-way relationship and backfills it inside transactions, on the
embedded `local` environment: it applies, rolls back, and dry-runs as a plan."""

from __future__ import annotations

import nbformat
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from cli_support import Workspace, outputs
from sdk_support import sdk_client_for

from workbook.local.server import start_local_server

UP_SCHEMA = """%%up
wb.create_table("authors", "Authors", columns=[{"key": "name", "type": "varchar", "size": 128}])
wb.add_relationship("blog_posts", "authors", "manyToOne", key="writer", two_way=True,
                    two_way_key="posts", on_delete="setNull")"""
UP_BACKFILL = """%%up
posts = list(wb.iter_rows("blog_posts"))
for start in range(0, len(posts), 2):  # each chunk commits whole or not at all
    with wb.transaction() as tx:
        for post in posts[start:start + 2]:
            name = post.get("author") or "anonymous"
            tx.upsert_row("authors", name, {"name": name})
            tx.update_row("blog_posts", post["$id"], {"writer": name})
print(f"linked {len(posts)} post(s) in transactions")"""
DOWN = """%%down
wb.delete_relationship("blog_posts", "writer")
wb.delete_table("authors")"""


def _writers(ws: Workspace) -> dict[str, str | None] | None:
    server = start_local_server(ws.root / ".workbook" / "local" / "appwrite.db")
    try:
        tables = TablesDB(sdk_client_for(server))
        database = tables.list().databases[0].id
        if "authors" not in [t.id for t in tables.list_tables(database).tables]:
            return None
        rows = tables.list_rows(database, "blog_posts", [Query.select(["*", "writer.*"])]).rows
        return {r.id: (r.data["writer"] or {}).get("$id") for r in rows}
    finally:
        server.stop()


def test_a_relationship_migration_applies_rolls_back_and_dry_runs(workspace: Workspace) -> None:
    ws = workspace
    for unneeded in ("002_add_blog_views", "003_rename_author"):  # 001's posts are enough
        (ws.root / f"migrations/{unneeded}.ipynb").unlink()
    assert ws.run("create", "--name", "link_authors").code == 0
    path = ws.root / "migrations/002_link_authors.ipynb"
    nb = nbformat.read(path, as_version=4)
    ups = [c for c in nb.cells if c.source.startswith("%%up")]
    downs = [c for c in nb.cells if c.source.startswith("%%down")]
    ups[0].source = UP_SCHEMA + "\n" + UP_BACKFILL.removeprefix("%%up\n")
    for cell in ups[1:]:
        cell.source = "%%up\npass"
    downs[0].source = DOWN
    for cell in downs[1:]:
        cell.source = "%%down\npass"
    nbformat.write(nb, path)

    up = ws.run("up")
    assert up.code == 0, up.output
    applied = sorted((ws.root / "history/local").glob("*_link_authors.ipynb"))[-1]
    assert "linked 3 post(s) in transactions" in outputs(applied)
    assert _writers(ws) == {"hello-world": "ada", "schema-as-code": "grace", "rollbacks": "ada"}

    down = ws.run("down")
    assert down.code == 0, down.output
    assert _writers(ws) is None  # the relationship and the authors table are gone

    plan = ws.run("up", "--dry-run")
    assert plan.code == 0, plan.output
    cells = [line.split("│")[1].strip() for line in plan.output.splitlines() if "│" in line]
    steps = [cell for cell in cells if cell]  # a wrapped row continues with an empty cell
    assert steps[:2] == ["create_table", "add_relationship"]
    assert steps.count("commit_transaction") == 2  # one per chunk of two posts
    assert _writers(ws) is None  # a dry run writes nothing
