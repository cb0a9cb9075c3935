"""The "existing project" the schema tests adopt, pull and push: a shop with customers
(every column type, a unique and a compound index) and row-secured notes, built through
the official SDK as a team would have built it without Workbook."""

from __future__ import annotations

from typing import Any

from appwrite.services.tables_db import TablesDB

from workbook.runtime.ops import Ops

# appwrite-cli 12 pushes the legacy `string` type, not `varchar`/`text` ("Unsupported
# attribute type: varchar"): round trips through it use the types it knows.
CLI_COLUMNS = [
    {"key": "name", "type": "string", "size": 128, "required": True},
    {"key": "email", "type": "email"},
    {"key": "tier", "type": "enum", "elements": ["free", "pro"], "default": "free"},
    {"key": "age", "type": "integer", "min": 0, "max": 150, "default": 18},
    {"key": "score", "type": "float", "min": 0.0, "max": 1.0},
    {"key": "vip", "type": "boolean", "default": False},
    {"key": "joined", "type": "datetime"},
    {"key": "tags", "type": "string", "size": 32, "array": True},
]
COLUMNS = [{**c, "type": "varchar"} if c["type"] == "string" else c for c in CLI_COLUMNS] + [
    {"key": "bio", "type": "text"}
]
INDEXES = [
    {"key": "by_email", "type": "unique", "columns": ["email"], "orders": ["ASC"]},
    {"key": "tier_age", "type": "key", "columns": ["tier", "age"], "orders": ["ASC", "DESC"]},
]


def build_shop(
    tables: TablesDB,
    database: str,
    columns: list[dict[str, Any]],
    indexes: list[dict[str, Any]],
    *,
    inline: int | None = None,
) -> Ops:
    """The shop in ``database``: ``inline`` columns and the first index given with the
    table, the rest added one by one afterwards (both paths of Appwrite's API)."""
    tables.create(database, "Shop")
    ops = Ops(tables, database, poll_interval=0.02, timeout=20)
    ops.create_table("customers", "Customers", columns=columns[:inline], indexes=indexes[:1])
    for column in columns[len(columns[:inline]) :]:
        ops.add_column("customers", **column)
    for index in indexes[1:]:
        ops.add_index("customers", **index)
    ops.create_table(
        "notes",
        "Notes",
        columns=[{"key": "text", "type": columns[0]["type"], "size": 500}],
        row_security=True,
        permissions=['read("any")'],
    )
    return ops
