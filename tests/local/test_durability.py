"""An acknowledged write survives `kill -9` of the local server.

A client thread streams `create_rows` batches of 100 into a server running in its own
process and records every batch the server acknowledged (201). The test kills the
process with SIGKILL mid-stream, starts a new server on the same SQLite file and checks
that every acknowledged row is there, that the batch in flight is all-or-nothing, and
that the restarted server still reads and writes correctly.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from sdk_support import tables_for

from workbook.local.server import LocalServer, start_local_server

API_KEY = "durability-test-key"
BATCH = 100
KILL_AFTER_BATCHES = 15
COLUMNS = [
    {"key": "batch", "type": "integer", "required": True},
    {"key": "payload", "type": "varchar", "size": 64, "required": False},
]


def sdk(server: LocalServer) -> TablesDB:
    return tables_for(server)


def batch_rows(batch: int) -> list[dict[str, object]]:
    return [
        {"$id": f"b{batch}-{i}", "batch": batch, "payload": f"row {i} of batch {batch}"}
        for i in range(BATCH)
    ]


class Writer(threading.Thread):
    """Writes batches until the server dies; `acknowledged` holds the batches it confirmed."""

    def __init__(self, tables: TablesDB) -> None:
        super().__init__(daemon=True)
        self.tables = tables
        self.acknowledged: list[int] = []
        self.in_flight: int | None = None
        self.enough = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        batch = 0
        while True:
            self.in_flight = batch
            try:
                self.tables.create_rows("db", "events", rows=batch_rows(batch))
            except AppwriteException as exc:
                self.failure = exc
                self.enough.set()
                return
            self.acknowledged.append(batch)
            self.in_flight = None
            if len(self.acknowledged) >= KILL_AFTER_BATCHES:
                self.enough.set()
            batch += 1


def all_row_ids(tables: TablesDB) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        queries = [Query.limit(500)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        page = tables.list_rows("db", "events", queries=queries, total=False)
        if not page.rows:
            return ids
        ids.extend(row.id for row in page.rows)
        cursor = page.rows[-1].id


def test_acknowledged_rows_survive_kill_9(tmp_path: Path) -> None:
    db_path = tmp_path / "durable.sqlite"
    server = start_local_server(db_path, api_key=API_KEY, mode="process")
    try:
        tables = sdk(server)
        tables.create("db", "Durability")
        tables.create_table("db", "events", "Events", columns=COLUMNS)
        writer = Writer(tables)
        writer.start()
        assert writer.enough.wait(timeout=120), "the writer never got going"
        os.kill(server.pid, signal.SIGKILL)
        writer.join(timeout=60)
        assert not writer.is_alive(), "the writer hung after the server was killed"
    finally:
        server.stop()

    acknowledged = list(writer.acknowledged)
    assert len(acknowledged) >= KILL_AFTER_BATCHES, writer.failure
    assert writer.failure is not None, "the writer stopped without the server dying"

    restarted = start_local_server(db_path, api_key=API_KEY, mode="process")
    try:
        tables = sdk(restarted)
        ids = all_row_ids(tables)
        present = set(ids)
        assert len(ids) == len(present), "a row is listed twice"
        for batch in acknowledged:
            missing = [r["$id"] for r in batch_rows(batch) if r["$id"] not in present]
            assert not missing, f"acknowledged batch {batch} lost {len(missing)} rows"

        expected_batches = set(acknowledged)
        if writer.in_flight is not None:
            in_flight = {r["$id"] for r in batch_rows(writer.in_flight)}
            landed = in_flight & present
            assert landed in (set(), in_flight), "the batch in flight was half written"
            if landed:
                expected_batches.add(writer.in_flight)
        assert len(present) == BATCH * len(expected_batches)

        # Still a working server: reads, writes and the schema are intact.
        sample = tables.get_row("db", "events", "b0-7")
        assert sample.data["batch"] == 0
        assert sample.data["payload"] == "row 7 of batch 0"
        tables.create_row("db", "events", "after-restart", {"batch": -1, "payload": "ok"})
        assert tables.get_row("db", "events", "after-restart").data["payload"] == "ok"
        column = tables.get_column("db", "events", "batch")
        assert column.status.value == "available"
        with_filter = tables.list_rows(
            "db", "events", queries=[Query.equal("batch", [acknowledged[-1]])]
        )
        assert with_filter.total == BATCH
    finally:
        restarted.stop()
