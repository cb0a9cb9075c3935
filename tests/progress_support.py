"""A 20,000-row backfill migration and its seeded table, for the progress tests (the
terminal of a batch run, and JupyterLab), written the way `workbook create` writes them,
parameters cells targeting the test's environment: 001 creates ``posts`` (seeded through the
SDK and stamped, as an adopted project's table is), 002 backfills it."""

from __future__ import annotations

import json
from pathlib import Path

from appwrite.services.tables_db import TablesDB

from workbook.command.scaffold import create
from workbook.core.config import Workspace
from workbook.core.integrity import write_sum

ROWS = 20_000
TABLE = "posts"
COLUMNS = [{"key": "n", "type": "integer"}, {"key": "m", "type": "integer"}]
CREATE = f"""%%up
wb.create_table({TABLE!r}, "Posts", columns={COLUMNS!r})
"""
DROP = f"""%%down
wb.delete_table({TABLE!r})
"""
UP = f"""%%up
changed = wb.backfill({TABLE!r}, lambda row: {{"m": row["n"] * 2}}, batch_size=1000)
print(f"backfilled {{changed}} rows")
"""
DOWN = f"""%%down
wb.backfill({TABLE!r}, lambda row: {{"m": None}}, batch_size=1000)
"""


def seed(tables: TablesDB, database_id: str, rows: int = ROWS) -> None:
    """``posts`` with ``rows`` rows, 100 per request (Appwrite's bulk limit)."""
    tables.create_table(database_id, TABLE, "Posts", columns=COLUMNS)
    for start in range(0, rows, 100):
        batch = [{"$id": f"p{i}", "n": i} for i in range(start, min(start + 100, rows))]
        tables.create_rows(database_id, TABLE, batch)


def backfill_migrations(root: Path, environment: str) -> Path:
    """001 (create ``posts``) and ``migrations/002_backfill_posts.ipynb`` (returned), their
    parameters cells set to ``environment``."""
    workspace = Workspace(root)
    create(workspace, "posts_table", "Posts table", cells={"up": CREATE, "down": DROP})
    create(workspace, "backfill_posts", "Backfill posts", cells={"up": UP, "down": DOWN})
    for path in sorted(workspace.migrations.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"]).replace(
                    'environment = "local"', f"environment = {environment!r}"
                )
                cell["source"] = source.splitlines(keepends=True)
        path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    write_sum(workspace.migrations)
    return path
