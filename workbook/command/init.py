"""``workbook init [DIR]``: a workspace in an existing repository.

It writes what a workspace needs and nothing else — ``workbook.toml`` with commented
environments, ``migrations/`` (with the integrity file ``workbook.sum``), ``notebooks/`` (the
migration template, the status and history notebooks) and the ``.gitignore`` rules for what
must not be committed — and refuses, changing nothing, where a workspace exists already.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workbook.core import integrity
from workbook.core.config import CONFIG_FILE
from workbook.errors import WorkbookError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOTEBOOKS = ("migration_template.ipynb", "status.ipynb", "history.ipynb")
IGNORED = (".workbook/", "history/local/", "history/*/backups/", "history/index.html")
CONFIG_TEXT = """\
# Workbook environments. `local` (the embedded server) is built in and needs no entry.
# API keys never go in this file: `key_env` names the environment variable that holds one.
#
# [environments.staging]
# endpoint = "https://cloud.appwrite.io/v1"
# project = "my-project-staging"
# database = "main"
# key_env = "STAGING_APPWRITE_KEY"
#
# [environments.production]
# endpoint = "https://cloud.appwrite.io/v1"
# project = "my-project"
# database = "main"
# key_env = "PRODUCTION_APPWRITE_KEY"
# confirm = true
"""


def init(folder: Path) -> list[Path]:
    """Create the workspace under ``folder``; the paths written or changed, in order."""
    root = folder.resolve()
    if root.exists() and not root.is_dir():
        raise WorkbookError(f"{folder} is a file, not a folder", "name a folder (or none: .)")
    existing = [
        name
        for name in (CONFIG_FILE, "migrations", "notebooks/migration_template.ipynb")
        if (root / name).exists()
    ]
    if existing:
        raise WorkbookError(
            f"{root} is a workspace already (it has {', '.join(existing)}); nothing was changed",
            "run workbook commands there, or init another folder",
        )
    written: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_FILE
    config.write_text(CONFIG_TEXT, encoding="utf-8")
    written.append(config)
    migrations = root / "migrations"
    migrations.mkdir()
    written.append(migrations)
    written.append(integrity.write_sum(migrations))
    notebooks = root / "notebooks"
    notebooks.mkdir(exist_ok=True)
    for name in NOTEBOOKS:
        if not (notebooks / name).exists():
            shutil.copyfile(TEMPLATES / name, notebooks / name)
            written.append(notebooks / name)
    written.append(_ignore(root / ".gitignore"))
    return written


def _ignore(path: Path) -> Path:
    """Append the rules ``.gitignore`` lacks; keep every line it has."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    have = {line.strip() for line in text.splitlines()}
    missing = [rule for rule in IGNORED if rule not in have]
    if missing:
        lead = "" if not text or text.endswith("\n") else "\n"
        block = "# Workbook: local state and backups stay out of git\n" + "\n".join(missing)
        path.write_text(text + lead + block + "\n", encoding="utf-8")
    return path
