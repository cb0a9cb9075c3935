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

import nbformat

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
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise CatalogError(
            f"migrations/{path.name} is not a valid notebook ({type(exc).__name__})",
            "open it in JupyterLab to repair it, or remove it",
        ) from exc
    version = match["version"]
    parameters_cell = next(
        (c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None
    )
    if parameters_cell is None:
        raise CatalogError(
            f"migrations/{path.name} has no cell tagged 'parameters'",
            "tag the cell defining environment/direction/dry_run with 'parameters'",
        )
    parameters = parse_parameters(parameters_cell.source)
    missing = [p for p in REQUIRED_PARAMETERS if p not in parameters]
    if missing:
        raise CatalogError(
            f"migrations/{path.name}: the parameters cell does not define {', '.join(missing)}",
            'add e.g. environment = "local", direction = "up", dry_run = False',
        )
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    connect = CONNECT.search(code)
    if connect is None:
        raise CatalogError(
            f"migrations/{path.name} never calls workbook.connect(environment, \"{version}\", …)",
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
        description=_description(nb, match["slug"]),
        checksum=checksum(nb),
        parameters=parameters,
        directions=_directions(nb),
    )


def checksum(nb: nbformat.NotebookNode) -> str:
    """Hash of what the notebook *does*: cell kinds and sources, not outputs or metadata.

    Operators step through migrations in JupyterLab, which saves outputs into the file;
    that must not make an applied migration look modified.
    """
    cells = [[c.cell_type, c.source.strip()] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


def parse_parameters(source: str) -> dict[str, str]:
    """Top-level ``name = value`` assignments of a parameters cell, values as written."""
    found: dict[str, str] = {}
    for line in source.splitlines():
        m = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(.+?)\s*(?:#.*)?$", line)
        if m:
            found[m[1]] = m[2]
    return found


def _description(nb: nbformat.NotebookNode, slug: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = TITLE.search(cell.source)
            if m:
                title = m["title"]
                # "002 — Add blog views" → "Add blog views"
                return re.sub(r"^\d+\s*[—–:-]\s*", "", title).strip()
    return slug.replace("_", " ").capitalize()


def _directions(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        first = cell.source.lstrip().split("\n", 1)[0].strip()
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
