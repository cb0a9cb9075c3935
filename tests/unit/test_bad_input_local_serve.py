"""`workbook local serve` refuses a database path or port it cannot use, and spoils no file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace, snapshot

from workbook.local.server import (
    SQLITE_HEADER,
    LocalServerError,
    check_database_file,
    start_local_server,
)


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def refused_serving(ws: CliWorkspace, watched: Path, *args: str, needles: tuple[str, ...]) -> None:
    before = snapshot(watched)
    workspace_before = snapshot(ws.root)
    assert_refused(ws.run("local", "serve", *args), *needles, unchanged=(watched, before))
    assert snapshot(ws.root) == workspace_before


@pytest.mark.parametrize(
    "content",
    [
        b"my notes, not a database\n" * 10,
        b"abc",  # shorter than SQLite's header
        b"SQLite format 2\x00" + b"\x00" * 100,
        b"\x00" * 4096,
    ],
)
def test_a_file_that_is_not_sqlite_is_left_untouched(
    ws: CliWorkspace, files: Path, content: bytes
) -> None:
    db = files / "notes.db"
    db.write_bytes(content)
    os.utime(db, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    refused_serving(
        ws,
        files,
        "--db",
        str(db),
        "--port",
        "0",
        needles=(f"{db} is not a SQLite database (it was left untouched)", "hint: choose"),
    )
    assert db.read_bytes() == content
    assert db.stat().st_mtime_ns == 1_000_000_000_000_000_000


def test_a_missing_folder_is_not_created(ws: CliWorkspace, files: Path) -> None:
    db = files / "nope" / "deeper" / "x.db"
    refused_serving(ws, files, "--db", str(db), needles=(f"the folder {db.parent} does not exist",))
    assert not (files / "nope").exists()


def test_a_folder_is_not_a_database_file(ws: CliWorkspace, files: Path) -> None:
    refused_serving(ws, files, "--db", str(files), needles=("is a folder, not a SQLite file",))


def test_a_folder_no_file_can_be_created_in(ws: CliWorkspace, files: Path) -> None:
    """/proc takes no new file, even from root (unlike a folder without write permission)."""
    refused_serving(ws, files, "--db", "/proc/x.db", needles=("cannot create files in /proc",))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """No new byte in ``path``, whoever we are: root ignores permission bits, so root gets
    the immutable attribute (ext2/3/4, btrfs, xfs), other users a read-only mode."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_folder(ws: CliWorkspace, files: Path) -> None:
    with read_only(files):
        refused_serving(ws, files, "--db", str(files / "x.db"), needles=("cannot create files",))


def test_a_read_only_database(ws: CliWorkspace, files: Path) -> None:
    db = files / "x.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    with read_only(db):
        refused_serving(ws, files, "--db", str(db), needles=(f"cannot read and write {db}",))


@pytest.mark.parametrize("port", ["70000", "65536", "-1"])
def test_a_port_out_of_range(ws: CliWorkspace, port: str) -> None:
    refused_serving(
        ws, ws.root, "--port", port, needles=(f"port {port} is not a TCP port number", "0 to let")
    )
    assert not (ws.root / ".workbook").exists()


def test_a_port_out_of_range_with_a_database(ws: CliWorkspace, files: Path) -> None:
    db = files / "new.db"
    refused_serving(ws, files, "--db", str(db), "--port", "99999", needles=("port 99999",))
    assert not db.exists()


def test_an_empty_file_and_a_sqlite_file_are_databases(files: Path) -> None:
    empty = files / "empty.db"
    empty.touch()
    check_database_file(empty)
    with start_local_server(empty) as server:
        assert server.db_path == empty
    assert empty.read_bytes()[:16] == SQLITE_HEADER
    check_database_file(empty)  # now a real database of the server's own
    check_database_file(files / "new.db")
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".workbook-probe")) == []


def test_the_thread_starter_refuses_too(files: Path) -> None:
    text = files / "notes.txt"
    text.write_text("hello")
    with pytest.raises(LocalServerError, match="not a SQLite database"):
        start_local_server(text)
    with pytest.raises(LocalServerError, match="not a TCP port"):
        start_local_server(files / "x.db", port=-5)
    assert text.read_text() == "hello" and not (files / "x.db").exists()


def test_python_m_workbook_local_refuses_in_one_line_too(tmp_path: Path) -> None:
    import subprocess
    import sys

    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbook.local",
            "serve",
            "--db",
            str(tmp_path / "missing" / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert ran.stderr.startswith("error: the folder") and "hint:" in ran.stderr
