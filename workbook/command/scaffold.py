"""``workbook create``: a new migration notebook from the template.

Kept apart from ``workbook.command.commands`` (which loads the Appwrite SDK, papermill's
runner and the journal) so that ``create`` starts in well under a second: it only reads the
catalog and writes one JSON file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from workbook.core.catalog import load_catalog, next_version, read_migration
from workbook.core.config import Workspace
from workbook.errors import CatalogError, WorkbookError

TEMPLATE = Path(__file__).parents[1] / "templates" / "migration_template.ipynb"


def create(
    workspace: Workspace,
    name: str,
    description: str | None = None,
    *,
    cells: dict[str, str] | None = None,
) -> Path:
    """A new migration notebook from the template, numbered after the last one; ``cells``
    (tag → source) replaces the template's first ``up``/``down`` cell (generated migrations)."""
    slug = name.strip().lower().replace("-", "_").replace(" ", "_")
    if not re.match(r"^[a-z][a-z0-9_]{0,60}$", slug):
        raise WorkbookError(
            f"--name {name!r} cannot be a migration name",
            "use letters, digits and underscores, e.g. add_new_field",
        )
    workspace.migrations.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog(workspace.migrations)
    if any(m.slug == slug for m in catalog):
        raise CatalogError(f"a migration named {slug} exists already", "choose another --name")
    # plain JSON, as nbformat writes it: importing nbformat costs seconds (its jsonschema
    # builds a URI grammar at import), and `create` starts in well under one without it
    version = next_version(catalog)
    title = description or slug.replace("_", " ").capitalize()
    template = workspace.root / "notebooks" / "migration_template.ipynb"
    nb = json.loads((template if template.is_file() else TEMPLATE).read_text(encoding="utf-8"))
    replace = dict(cells or {})
    for cell in nb["cells"]:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        source = source.replace("{{VERSION}}", version).replace("{{TITLE}}", title)
        tag = next((t for t in cell.get("metadata", {}).get("tags", []) if t in replace), None)
        if tag:
            source = replace.pop(tag)
        cell["source"] = source.splitlines(keepends=True)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path = workspace.migrations / f"{version}_{slug}.ipynb"
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    read_migration(path)  # the template must produce a valid migration
    from workbook.core.integrity import write_sum

    write_sum(workspace.migrations)  # two branches that each add one conflict in git
    return path
