"""A run's schema changes as an operator thinks of them: a rename is a rename, what loses
data is marked destructive (in red), what is new is highlighted, and no pandas index.

``core.schema.diff`` compares two snapshots and cannot tell a rename from a delete and an
add; the operations of the run can, so the renames they made (``Ops.renames``) are folded
in here.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from workbook.core.schema import Schema, diff

FIELDS = ["change", "kind", "table", "key", "detail", "destructive"]
_COLOURS = {"removed": "#b00020", "added": "#1b5e20", "renamed": "#0d47a1"}


def changes(
    before: Schema, after: Schema, renames: dict[tuple[str, str], str] | None = None
) -> pd.DataFrame:
    """Added, removed, renamed and changed items; ``destructive`` when data is lost (a
    removed table, column or index, a column whose type changed: Appwrite recreates it)."""
    rows: list[dict[str, Any]] = diff(before, after).to_dict("records")
    for (table, old), new in (renames or {}).items():
        gone = _find(rows, "removed", table, old)
        came = _find(rows, "added", table, new)
        if gone is None or came is None:
            continue
        rows.remove(gone)
        came.update(change="renamed", key=f"{old} → {new}")
    for row in rows:
        row["destructive"] = row["change"] == "removed" or (
            row["change"] == "changed" and row["kind"] == "column" and "type:" in row["detail"]
        )
    return pd.DataFrame(rows, columns=FIELDS)


def _find(rows: list[dict[str, Any]], change: str, table: str, key: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in rows
            if r["change"] == change
            and r["kind"] == "column"
            and r["table"] == table
            and r["key"] == key
        ),
        None,
    )


def changes_text(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "no schema changes"
    shown = frame.assign(destructive=frame.destructive.map({True: "DESTRUCTIVE", False: ""}))
    return shown.to_string(index=False)


def changes_html(frame: pd.DataFrame) -> str:
    """A table with destructive rows in red and added ones in green."""
    if frame.empty:
        return "<p>no schema changes</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in FIELDS)
    body = []
    for row in frame.to_dict("records"):
        lost = bool(row["destructive"])
        colour = _COLOURS["removed"] if lost else _COLOURS.get(row["change"], "inherit")
        weight = "bold" if lost or row["change"] == "added" else "normal"
        cells = [
            html.escape(str(row[c])) if c != "destructive" else ("⚠ destructive" if lost else "")
            for c in FIELDS
        ]
        body.append(
            f"<tr class='wb-change wb-{html.escape(str(row['change']))}' "
            f"style='color:{colour};font-weight:{weight}'>"
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + "</tr>"
        )
    rows = "".join(body)
    return f"<table class='wb-changes'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
