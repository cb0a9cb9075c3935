"""The migrations folder as an ordered, validated catalog.

Everything that can be wrong with a migration file is found here, before any run starts,
so a bad file never leaves a half-applied sequence behind.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook.errors import CatalogError

FILENAME = re.compile(r"^(?P<version>\d{3,})_(?P<slug>[a-z0-9][a-z0-9_]*)\.ipynb$")
TITLE = re.compile(r"^#\s+(?P<title>.+?)\s*$", re.MULTILINE)
CONNECT = re.compile(r"workbook\.connect\(\s*[^,()]*,\s*[\"'](?P<version>\d+)[\"']")
REQUIRED_PARAMETERS = ("environment", "direction", "dry_run")
DIRECTIONS = ("up", "down")


@dataclass(frozen=True)
class Migration:
    """One migration notebook and what the runner needs to know about it."""

    version: str
    slug: str
    path: Path
    description: str
    checksum: str
    parameters: dict[str, str] = field(compare=False)  # name -> default, as written
    directions: tuple[str, ...] = ("up",)
    cell_timeout: float | None = None  # notebook metadata workbook.cell_timeout, seconds
    legacy_checksums: tuple[str, ...] = field(default=(), compare=False)

    def matches(self, recorded: str) -> bool:
        """Is ``recorded`` (a ledger's checksum) this notebook, by any checksum Workbook
        has used?"""
        return recorded in (self.checksum, *self.legacy_checksums)

    @property
    def number(self) -> int:
        return int(self.version)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def reversible(self) -> bool:
        return "down" in self.directions


def load_catalog(folder: Path) -> list[Migration]:
    """All migrations in ``folder``, ordered by version; raises on the first bad file."""
    if not folder.is_dir():
        raise CatalogError(
            f"no migrations folder at {folder}",
            "create it, or run `workbook create --name first_migration`",
        )
    migrations: dict[int, Migration] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix != ".ipynb":
            continue
        migration = read_migration(path)
        clash = migrations.get(migration.number)
        if clash:
            raise CatalogError(
                f"two migrations have version {migration.version}: {clash.path.name} "
                f"and {path.name}",
                "renumber one of them (`workbook create` picks the next free number)",
            )
        migrations[migration.number] = migration
    return [migrations[n] for n in sorted(migrations)]


def read_migration(path: Path) -> Migration:
    match = FILENAME.match(path.name)
    if not match:
        raise CatalogError(
            f"migrations/{path.name} is not named NNN_slug.ipynb",
            "rename it, e.g. 003_add_user_roles.ipynb (lowercase, digits, underscores)",
        )
    nb = read_notebook(path)
    version = match["version"]
    cells = nb["cells"]
    parameters_cell = next((c for c in cells if "parameters" in _tags(c)), None)
    if parameters_cell is None:
        raise CatalogError(
            f"migrations/{path.name} has no cell tagged 'parameters'",
            "tag the cell defining environment/direction/dry_run with 'parameters'",
        )
    parameters = parse_parameters(_source(parameters_cell))
    missing = [p for p in REQUIRED_PARAMETERS if p not in parameters]
    if missing:
        raise CatalogError(
            f"migrations/{path.name}: the parameters cell does not define {', '.join(missing)}",
            'add e.g. environment = "local", direction = "up", dry_run = False',
        )
    code = "\n".join(_source(c) for c in cells if c.get("cell_type") == "code")
    connect = CONNECT.search(code)
    if connect is None:
        raise CatalogError(
            f'migrations/{path.name} never calls workbook.connect(environment, "{version}", …)',
            "add the connect cell from notebooks/migration_template.ipynb",
        )
    if int(connect["version"]) != int(version):
        raise CatalogError(
            f"migrations/{path.name} connects as version {connect['version']}, "
            f"but its file name says {version}",
            f'call workbook.connect(environment, "{version}", …)',
        )
    return Migration(
        version=version,
        slug=match["slug"],
        path=path,
        description=_description(cells, match["slug"]),
        checksum=checksum(cells),
        legacy_checksums=(legacy_checksum(cells),),
        parameters=parameters,
        directions=_directions(cells),
        cell_timeout=_cell_timeout(path, nb),
    )


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook as plain JSON, checked just enough to be read as one.

    Plain JSON rather than nbformat: the catalog is loaded by every command and in every
    kernel, and nbformat's schema validator takes a second to import.
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _not_a_notebook(path, f"invalid JSON at line {exc.lineno}") from exc
    except UnicodeDecodeError as exc:
        raise _not_a_notebook(path, "not UTF-8 text") from exc
    except OSError as exc:
        raise _not_a_notebook(path, f"cannot be read: {exc.strerror}") from exc
    problem = notebook_problem(nb)
    if problem:
        raise _not_a_notebook(path, problem)
    return nb


def notebook_problem(nb: object) -> str | None:
    """Why parsed JSON is not a notebook the catalog can read, or None when it is one."""
    if not isinstance(nb, dict):
        return f"a JSON {_json_kind(nb)}, not a notebook object"
    if nb.get("nbformat") != 4:
        return "not nbformat 4"
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return "its cells are not a list"
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not _is_source(cell.get("source", "")):
            return f"cell {number} is not a notebook cell"
        meta = cell.get("metadata", {})
        if not isinstance(meta, dict) or not isinstance(meta.get("tags", []), list):
            return f"cell {number} has malformed metadata"
    return None


def _is_source(source: object) -> bool:
    return isinstance(source, str) or (
        isinstance(source, list) and all(isinstance(line, str) for line in source)
    )


def _not_a_notebook(path: Path, why: str) -> CatalogError:
    return CatalogError(
        f"migrations/{path.name} is not a valid notebook ({why})",
        "open it in JupyterLab to repair it, or remove it",
    )


def _json_kind(value: object) -> str:
    kinds = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _tags(cell: dict[str, Any]) -> list[str]:
    return list((cell.get("metadata") or {}).get("tags") or [])


def checksum(cells: list[dict[str, Any]]) -> str:
    """Hash of what the notebook *does*: cell kinds and sources, not outputs or metadata.

    Operators step through migrations in JupyterLab, which saves outputs into the file,
    and target an environment by editing ``environment = "staging"`` in the parameters
    cell: neither may make an applied migration look modified. So the parameters cell
    counts by its names only (a knob added or removed is a change; a value is not).
    """
    normalized = [
        [
            c.get("cell_type"),
            sorted(parse_parameters(_source(c)))
            if "parameters" in _tags(c)
            else _source(c).strip(),
        ]
        for c in cells
    ]
    return hashlib.sha256(json.dumps(normalized, ensure_ascii=False).encode()).hexdigest()


def legacy_checksum(cells: list[dict[str, Any]]) -> str:
    """The checksum Workbook 0.1 recorded (whole parameters cell): still a match, so
    ledgers written then do not see every applied migration as modified."""
    normalized = [[c.get("cell_type"), _source(c).strip()] for c in cells]
    return hashlib.sha256(json.dumps(normalized, ensure_ascii=False).encode()).hexdigest()


def parse_parameters(source: str) -> dict[str, str]:
    """Top-level ``name = value`` assignments of a parameters cell, values as written."""
    found: dict[str, str] = {}
    for line in source.splitlines():
        m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(.+?)\s*(?:#.*)?$", line)
        if m:
            found[m[1]] = m[2]
    return found


def _description(cells: list[dict[str, Any]], slug: str) -> str:
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            m = TITLE.search(_source(cell))
            if m:
                title = m["title"]
                # "002 — Add blog views" → "Add blog views"
                return re.sub(r"^\d+\s*[—–:-]\s*", "", title).strip()
    return slug.replace("_", " ").capitalize()


def _cell_timeout(path: Path, nb: dict[str, Any]) -> float | None:
    """A migration may need longer cells than its environment allows (a big backfill)."""
    meta = nb.get("metadata") or {}
    value = (meta.get("workbook") or {}).get("cell_timeout") if isinstance(meta, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise CatalogError(
            f"migrations/{path.name}: metadata workbook.cell_timeout = {value!r} is not a "
            "positive number of seconds",
            'set it like "workbook": {"cell_timeout": 7200} in the notebook metadata',
        )
    return float(value)


def _directions(cells: list[dict[str, Any]]) -> tuple[str, ...]:
    found = set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        tags = set(_tags(cell))
        first = _source(cell).lstrip().split("\n", 1)[0].strip()
        for direction in DIRECTIONS:
            if direction in tags or first == f"%%{direction}":
                found.add(direction)
    return tuple(d for d in DIRECTIONS if d in found) or ("up",)


def find(catalog: list[Migration], selector: str) -> Migration:
    """The migration a ``--migration`` value names: a version (``2``, ``002``) or a name."""
    if "/" in selector or "\\" in selector or selector.startswith("."):
        raise CatalogError(
            f"--migration '{selector}' looks like a path",
            "name a migration by version (002) or name (002_add_blog_views), not a path",
        )
    wanted = selector.removesuffix(".ipynb")
    for m in catalog:
        if wanted in (m.name, m.slug) or (wanted.isdigit() and int(wanted) == m.number):
            return m
    known = ", ".join(m.version for m in catalog) or "none"
    raise CatalogError(
        f"no migration '{selector}'", f"known versions: {known} (see `workbook status`)"
    )


def next_version(catalog: list[Migration]) -> str:
    number = max((m.number for m in catalog), default=0) + 1
    return f"{number:03d}"
