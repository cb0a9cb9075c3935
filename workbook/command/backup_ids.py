"""What a restore must remember about a backup's rows, on disk instead of in memory.

A restore asks "is this row in the backup?" of every row it reads back (to compare, to
delete what replace removes, to convert what merge keeps), and keeps the rows created since
the backup while a retyped column is put back. In a Python set that is about 12 MiB per
100,000 rows, growing with the table; here the ids and kept rows live in a temporary SQLite
file with a small page cache, so a restore's memory stays flat whatever the table size.
Lookups are by page (one query per page of rows), not per row.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

_CACHE_KIB = 2048  # SQLite's page cache: bounded, whatever the number of rows
_BATCH = 500  # ids per query (SQLite's parameter limit is far above)


class BackedUpIds:
    """The ids of a backup file's rows (``only`` those it accepts), and rows set aside
    during a restore."""

    def __init__(
        self, rows_file: Path, only: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="workbook-restore-")
        self._db = sqlite3.connect(Path(self._folder.name) / "ids.sqlite")
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
        self._db.execute("CREATE TABLE kept (n INTEGER PRIMARY KEY, id TEXT, row TEXT)")
        with rows_file.open(encoding="utf-8") as lines:
            rows = (json.loads(x) for x in lines)
            self._db.executemany(
                "INSERT OR IGNORE INTO ids VALUES (?)",
                ((r["$id"],) for r in rows if only is None or only(r)),
            )
        self._count = self._db.execute("SELECT count(*) FROM ids").fetchone()[0]

    def __len__(self) -> int:
        return self._count

    def missing(self, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` the backup does not have, in their order."""
        found: set[str] = set()
        for start in range(0, len(ids), _BATCH):
            chunk = list(ids[start : start + _BATCH])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id FROM ids WHERE id IN ({marks})"
            found.update(r[0] for r in self._db.execute(query, chunk))
        return [i for i in ids if i not in found]

    def keep(self, rows: Iterable[dict[str, Any]]) -> None:
        """Set rows aside (the rows created since the backup, before a column is retyped)."""
        self._db.executemany(
            "INSERT INTO kept (id, row) VALUES (?, ?)",
            ((r["$id"], json.dumps(r, ensure_ascii=False)) for r in rows),
        )

    @property
    def has_kept(self) -> bool:
        return self._db.execute("SELECT 1 FROM kept LIMIT 1").fetchone() is not None

    def kept(self) -> Iterator[dict[str, Any]]:
        """The rows set aside, in the order they were kept, read a page at a time."""
        last = 0
        while True:
            page = self._db.execute(
                "SELECT n, row FROM kept WHERE n > ? ORDER BY n LIMIT 1000", (last,)
            ).fetchall()
            if not page:
                return
            for n, text in page:
                last = n
                yield json.loads(text)

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()

    def __enter__(self) -> BackedUpIds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pages(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    page: list[Any] = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page
