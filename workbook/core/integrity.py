"""``migrations/workbook.sum``: the integrity file (as Atlas's ``atlas.sum``).

One line per migration with the *cumulative* hash of its source cells and tags (each line
covers every migration up to it), headed by the hash of the whole folder. ``create`` rewrites
it, so two branches that each add a migration change the same lines, and git reports a merge
conflict instead of silently merging two "next" migrations. A migration edited, added or
removed without the file being rewritten makes it out of date, which ``verify`` reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from workbook.core.catalog import FILENAME, _source, _tags, parse_parameters, read_notebook

SUM_FILE = "workbook.sum"
HEADER = "# workbook.sum: cumulative hashes of the migrations (rewritten by `workbook create`)"


def migration_files(folder: Path) -> list[Path]:
    """Files named like migrations, in version order (duplicates kept: verify names them)."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and FILENAME.match(p.name)]
    return sorted(found, key=lambda p: (int(FILENAME.match(p.name)["version"]), p.name))  # type: ignore[index]


def content_hash(path: Path) -> str:
    """What the notebook does: each cell's kind, tags and source (the parameters cell by its
    names only, as the catalog's checksum counts it); outputs and metadata do not count."""
    cells = read_notebook(path)["cells"]
    normalized = [
        [
            c.get("cell_type"),
            sorted(_tags(c)),
            sorted(parse_parameters(_source(c)))
            if "parameters" in _tags(c)
            else _source(c).strip(),
        ]
        for c in cells
    ]
    return hashlib.sha256(json.dumps(normalized, ensure_ascii=False).encode()).hexdigest()


def sum_lines(folder: Path) -> list[str]:
    """The file's lines as they should be: header, total, then one per migration."""
    lines: list[str] = []
    running = hashlib.sha256()
    for path in migration_files(folder):
        running.update(f"{path.name}\0{content_hash(path)}\n".encode())
        lines.append(f"{path.name} h1:{running.hexdigest()}")
    return [HEADER, f"h1:{running.hexdigest()}", *lines]


def write_sum(folder: Path) -> Path:
    path = folder / SUM_FILE
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sum_lines(folder)) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class SumProblem:
    """Why the integrity file does not match the folder (``code`` is stable)."""

    code: str  # sum-missing | sum-outdated
    message: str


def check_sum(folder: Path) -> SumProblem | None:
    path = folder / SUM_FILE
    if not path.is_file():
        return SumProblem("sum-missing", f"migrations/{SUM_FILE} is missing")
    have = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    want = sum_lines(folder)
    if have == want:
        return None
    if any(line.startswith(("<<<<<<<", ">>>>>>>")) for line in have):
        return SumProblem(
            "sum-outdated",
            f"migrations/{SUM_FILE} has merge conflict markers: two branches "
            "each added migrations; renumber yours after theirs",
        )
    old = dict(_entries(have))
    new = dict(_entries(want))
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    first_changed = next((name for name in new if name in old and old[name] != new[name]), None)
    parts = []
    if added:
        parts.append("not in it: " + ", ".join(added))
    if removed:
        parts.append("no longer a file: " + ", ".join(removed))
    if first_changed and not parts:
        parts.append(f"changed since it was written: {first_changed} (or one before it)")
    detail = "; ".join(parts) or "its lines differ"
    return SumProblem("sum-outdated", f"migrations/{SUM_FILE} is out of date ({detail})")


def _entries(lines: list[str]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        name, _, digest = line.partition(" ")
        if digest.startswith("h1:") and FILENAME.match(name):
            out.append((name, digest))
    return out
