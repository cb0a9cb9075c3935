"""`workbook restore` refuses an incomplete, truncated, tampered or malformed backup before it
sends the target a single request; an intact one goes back."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace, add_environment, assert_refused, snapshot

from workbook.core.backup import export_database
from workbook.core.client import Target
from workbook.local.server import LocalServer

ROWS = [{"$id": f"p{i}", "title": f"post {i}"} for i in range(3)]


@pytest.fixture
def database(tables: TablesDB, database_id: str) -> str:
    tables.create_table(
        database_id,
        "posts",
        "Posts",
        columns=[{"key": "title", "type": "varchar", "size": 100, "required": True}],
    )
    tables.create_rows(database_id, "posts", ROWS)
    return database_id


@pytest.fixture
def backup(tmp_path: Path, target: Target) -> Path:
    folder = tmp_path / "backup"
    assert export_database(target, folder) == {"posts": 3}
    return folder


def manifest_edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / "schema.json"
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))

    return edit


def rewrite_rows(text: Callable[[str], str], *, reseal: bool) -> Callable[[Path], None]:
    """Change posts.jsonl; ``reseal`` also fixes its checksum, as a careful forger would."""

    def edit(folder: Path) -> None:
        path = folder / "posts.jsonl"
        path.write_text(text(path.read_text()))
        if reseal:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            manifest_edit(lambda m: m["files"]["posts"].update(sha256=digest))(folder)

    return edit


def remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text)


def first_table(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return manifest_edit(lambda m: change(m["tables"][0]))


TAMPERED: dict[str, tuple[Callable[[Path], None], str]] = {
    "no manifest": (remove("schema.json"), "has no schema.json: not a backup, or an export"),
    "truncated rows": (
        rewrite_rows(lambda t: t[: len(t) // 2], reseal=False),
        "posts.jsonl does not match its sha256 in schema.json: truncated or changed",
    ),
    "edited row": (
        rewrite_rows(lambda t: t.replace("post 1", "post 9"), reseal=False),
        "does not match its sha256",
    ),
    "appended row": (
        rewrite_rows(lambda t: t + '{"$id": "extra"}\n', reseal=False),
        "does not match its sha256",
    ),
    "rows file missing": (remove("posts.jsonl"), "backup/posts.jsonl is missing"),
    "truncated manifest": (
        lambda f: write("schema.json", (f / "schema.json").read_text()[:40])(f),
        "schema.json is not readable JSON (JSONDecodeError)",
    ),
    "manifest is an array": (write("schema.json", "[]"), "it is not a JSON object"),
    "no database": (manifest_edit(lambda m: m.pop("database")), "it has no database"),
    "no tables": (manifest_edit(lambda m: m.pop("tables")), "it has no tables"),
    "no rows": (manifest_edit(lambda m: m.pop("rows")), "it has no rows"),
    "no checksums": (
        manifest_edit(lambda m: (m.pop("files"), m.pop("format"))),
        "it has no format, files (made by an older Workbook, or edited)",
    ),
    "unknown format": (manifest_edit(lambda m: m.update(format=9)), "format 9 is not 2"),
    "database a number": (
        manifest_edit(lambda m: m.update(database=5)),
        "database is not an Appwrite id",
    ),
    "tables an object": (manifest_edit(lambda m: m.update(tables={})), "tables is not a list"),
    "rows a list": (manifest_edit(lambda m: m.update(rows=[])), "rows is not an object"),
    "table a number": (manifest_edit(lambda m: m.update(tables=[5])), "table 1: not an object"),
    "table id escapes": (
        first_table(lambda t: t.update({"$id": "../../etc/passwd"})),
        "table 1: $id is not an Appwrite id",
    ),
    "table without name": (first_table(lambda t: t.pop("name")), "posts has no name"),
    "columns malformed": (
        first_table(lambda t: t.update(columns=[{"key": 5}])),
        "posts: columns is not a list of definitions",
    ),
    "table twice": (
        manifest_edit(lambda m: m["tables"].append(m["tables"][0])),
        "table posts appears twice",
    ),
    "checksum malformed": (
        manifest_edit(lambda m: m["files"]["posts"].update(sha256="abc")),
        "files has no sha256 for table posts",
    ),
    "counts disagree": (
        manifest_edit(lambda m: m["rows"].update(posts=4)),
        "row count of table posts is missing or inconsistent",
    ),
    "count forged": (
        manifest_edit(lambda m: (m["rows"].update(posts=4), m["files"]["posts"].update(rows=4))),
        "backup/posts.jsonl holds 3 rows, schema.json says 4",
    ),
    "line forged": (
        rewrite_rows(lambda t: t.replace('{"$id": "p1"', '["p1"', 1), reseal=True),
        "backup/posts.jsonl line 2 is not a JSON row with an $id",
    ),
    "row without id forged": (
        rewrite_rows(lambda t: t.replace('"$id": "p2"', '"id": "p2"', 1), reseal=True),
        "line 3 is not a JSON row with an $id",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_damaged_backup_is_refused_before_any_request(
    case: str,
    ws: CliWorkspace,
    backup: Path,
    tables: TablesDB,
    database: str,
    local_server: LocalServer,
) -> None:
    damage, needle = TAMPERED[case]
    tables.delete_table(database, "posts")  # what the restore would put back
    damage(backup)
    before = snapshot(backup)
    local_server.clear_request_log()
    result = ws.run("restore", str(backup), "--env", "test")
    assert_refused(result, needle, unchanged=(backup, before))
    assert local_server.request_log() == []
    assert not (ws.root / "history").exists()
    with pytest.raises(AppwriteException) as gone:
        tables.get_table(database, "posts")
    assert gone.value.code == 404


def test_missing_folder_and_a_file_instead_of_a_folder(ws: CliWorkspace, backup: Path) -> None:
    assert_refused(ws.run("restore", str(backup / "nope")), "backup/nope is not a folder")
    assert_refused(ws.run("restore", str(backup / "schema.json")), "is not a folder")


def test_an_export_cut_short_leaves_no_manifest_and_is_refused(
    ws: CliWorkspace,
    target: Target,
    local_server: LocalServer,
    tables: TablesDB,
    database: str,
    tmp_path: Path,
) -> None:
    tables.create_table(database, "notes", "Notes")  # exported after posts
    folder = tmp_path / "cut"

    def fail_next_page(table: str, rows: int) -> None:  # posts is written: cut the rest
        local_server.inject_fault(kind="server_error", method="GET", path=r"/rows$", times=1)

    try:
        with pytest.raises(AppwriteException):
            export_database(target, folder, on_progress=fail_next_page)
    finally:
        local_server.clear_faults()
    assert (folder / "posts.jsonl").is_file()
    assert not (folder / "schema.json").exists()
    local_server.clear_request_log()
    assert_refused(ws.run("restore", str(folder), "--env", "test"), "an export that did not finish")
    assert local_server.request_log() == []


def test_only_the_chosen_tables_are_verified(
    ws: CliWorkspace, backup: Path, tables: TablesDB, database: str, target: Target
) -> None:
    tables.create_table(database, "notes", "Notes")
    shutil.rmtree(backup)
    export_database(target, backup)
    (backup / "notes.jsonl").write_text("damaged\n")
    for table in ("posts", "notes"):
        tables.delete_table(database, table)
    assert_refused(ws.run("restore", str(backup), "--env", "test"), "notes.jsonl does not match")
    result = ws.run("restore", str(backup), "--env", "test", "--table", "posts")
    assert result.code == 0, result.output
    assert result.stdout.splitlines()[0] == "restored 3 row(s) of posts"


def test_workbook_tables_are_never_restored(ws: CliWorkspace, backup: Path) -> None:
    assert_refused(
        ws.run("restore", str(backup), "--env", "test", "--table", "workbook_lock"),
        "the backup has no table workbook_lock (Workbook's own tables are never restored)",
        "it holds: posts",
    )


def test_another_database_is_refused_before_any_request(
    ws: CliWorkspace, backup: Path, local_server: LocalServer
) -> None:
    (ws.root / "workbook.toml").write_text("")
    add_environment(ws, local_server, database="elsewhere")
    local_server.clear_request_log()
    assert_refused(
        ws.run("restore", str(backup), "--env", "test"),
        "the backup is of database",
        "but 'test' uses 'elsewhere'",
    )
    assert local_server.request_log() == []


def test_an_intact_backup_goes_back(
    ws: CliWorkspace, backup: Path, tables: TablesDB, database: str
) -> None:
    tables.delete_table(database, "posts")
    before = snapshot(backup)
    result = ws.run("restore", str(backup), "--env", "test")
    assert result.code == 0, result.output
    assert "restored 3 row(s) of posts" in result.stdout
    assert tables.get_row(database, "posts", "p2").data["title"] == "post 2"
    assert snapshot(backup) == before
