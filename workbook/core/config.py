"""Environments: where a run goes, and the *name* of the variable holding its key.

Precedence follows one rule everywhere: flag > ``WORKBOOK_*`` variable > ``workbook.toml`` >
built-in default. The API key itself is only ever read from the environment, wrapped in
:class:`Secret` so it cannot leak through a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from workbook.core.ids import ID_RULE, is_appwrite_id
from workbook.errors import ConfigError
from workbook.secrets import Secret
from workbook.settings import CELL_TIMEOUT, ENV, HTTP_TIMEOUT, LEASE_SECONDS, LOCAL_KEY, WORKSPACE

CONFIG_FILE = "workbook.toml"
LOCAL = "local"
LOCAL_PROJECT = "workbook-local"
DEFAULT_DATABASE = "main"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_CELL_TIMEOUT = 3600.0
DEFAULT_LEASE_SECONDS = 60.0
BOUND_KEYS = ("http_timeout", "cell_timeout", "lease_seconds")
BACKUP_MODES = ("touched", "all", "none", "cloud")
REMOTE_KEYS = (
    "endpoint",
    "project",
    "database",
    "key_env",
    "self_signed",
    "confirm",
    *BOUND_KEYS,
    "backup",
    "color",
    "label",
)
LOCAL_KEYS = ("database", "confirm", *BOUND_KEYS, "backup", "color", "label")
_KEY_TYPES: dict[str, type] = {
    "endpoint": str,
    "project": str,
    "database": str,
    "key_env": str,
    "self_signed": bool,
    "confirm": bool,
    "backup": str,
    "color": str,
    "label": str,
}
_COLOR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]{3,20})$")
_TYPE_NAMES = {str: "string", bool: "boolean"}
_EXAMPLES = {
    "endpoint": "https://cloud.appwrite.io/v1",
    "project": "my-project",
    "database": "main",
    "key_env": "STAGING_APPWRITE_KEY",
}


@dataclass(frozen=True)
class Bounds:
    """Every wait of a run has one of these bounds (seconds)."""

    http: float
    cell: float
    lease: float


@dataclass(frozen=True)
class Environment:
    """A named Appwrite target. ``local`` has no endpoint: Workbook serves it itself."""

    name: str
    project: str
    database: str
    key_env: str
    endpoint: str | None = None
    self_signed: bool = False
    confirm: bool = False  # writing runs need --yes or a typed confirmation (production)
    http_timeout: float = DEFAULT_HTTP_TIMEOUT
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    backup: str = "touched"  # what a run backs up first: touched tables, all, none, cloud
    color: str | None = None  # the notebook banner's colour (default: red when confirm)
    label: str | None = None  # the banner's name for it (default: the name, upper case)

    @property
    def is_local(self) -> bool:
        return self.endpoint is None

    def key(self) -> Secret:
        """The API key, from the variable named in the config; never from a file."""
        value = os.environ.get(self.key_env, "")
        if not value:
            raise ConfigError(
                f"environment '{self.name}' needs an API key in ${self.key_env}, which is not set",
                f"export {self.key_env}=<your Appwrite API key> and run again",
            )
        return Secret(value)

    def bounds(self) -> Bounds:
        """How long a request, a cell and a silent lock holder may take: a ``WORKBOOK_*``
        variable wins over ``workbook.toml``, which wins over the default."""
        return Bounds(
            http=HTTP_TIMEOUT.seconds() or self.http_timeout,
            cell=CELL_TIMEOUT.seconds() or self.cell_timeout,
            lease=LEASE_SECONDS.seconds() or self.lease_seconds,
        )

    def describe(self) -> str:
        target = "embedded local server" if self.is_local else self.endpoint
        return f"{self.name} → {target} · project {self.project} · database {self.database}"


@dataclass(frozen=True)
class Workspace:
    """The folder holding ``migrations/``, ``history/`` and ``workbook.toml``."""

    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    @property
    def history(self) -> Path:
        return self.root / "history"

    @property
    def state(self) -> Path:
        """Git-ignored working state: the local server's database, locks."""
        return self.root / ".workbook"

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    def history_dir(self, environment: str) -> Path:
        return self.history / environment

    def environments(self) -> dict[str, Environment]:
        return load_environments(self.config_file)

    def environment(self, name: str | None = None) -> Environment:
        chosen = name or ENV.get() or LOCAL
        envs = self.environments()
        if chosen not in envs:
            known = ", ".join(sorted(envs))
            raise ConfigError(
                f"unknown environment '{chosen}'",
                f"use one of: {known}, or add [environments.{chosen}] to {CONFIG_FILE}",
            )
        return envs[chosen]


def find_workspace(start: Path | None = None) -> Workspace:
    """The nearest folder, upwards from ``start``, that has migrations or a workbook.toml.

    ``WORKBOOK_WORKSPACE`` wins, so kernels started anywhere (JupyterLab opens notebooks with
    their own folder as cwd) find the same workspace as the CLI.
    """
    pinned = WORKSPACE.get()
    if pinned:
        return Workspace(Path(pinned).resolve())
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() or (folder / "migrations").is_dir():
            return Workspace(folder)
    raise ConfigError(
        f"no workspace found at or above {here}",
        f"run from a folder with a migrations/ folder or a {CONFIG_FILE}",
    )


def local_environment(
    database: str = DEFAULT_DATABASE,
    *,
    confirm: bool = False,
    backup: str = "touched",
    **bounds: float,
) -> Environment:
    return Environment(
        name=LOCAL,
        project=LOCAL_PROJECT,
        database=database,
        key_env=LOCAL_KEY.name,
        confirm=confirm,
        backup=backup,
        **bounds,
    )


def load_environments(path: Path) -> dict[str, Environment]:
    """Read ``[environments.NAME]`` tables; ``local`` is always there.

    Every shape or key the file gets wrong is refused here, by name: a typo such as
    ``databse`` must not quietly send a run to the default database.
    """
    envs = {LOCAL: local_environment()}
    if not path.is_file():
        return envs
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}", "fix the file's syntax") from exc
    tables = data.get("environments", {})
    if not isinstance(tables, dict):
        raise ConfigError(
            f"{path.name}: environments is {_kind(tables)}, not a table of environments",
            "write each environment as its own [environments.NAME] table",
        )
    for name, table in tables.items():
        envs[name] = _environment(path.name, name, table)
    from workbook.core.fleets import tenant_environments  # a fleet's tenants are environments

    envs.update(tenant_environments(path, data, envs))
    return envs


def _environment(source: str, name: str, table: object) -> Environment:
    where = f"{source} [environments.{name}]"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: bad environment name", "use letters, digits, '-' or '_'")
    if not isinstance(table, dict):
        raise ConfigError(
            f"{source}: environments.{name} is {_kind(table)}, not a table",
            f"write it as [environments.{name}] followed by its keys, one per line",
        )
    if "key" in table or "api_key" in table:
        raise ConfigError(
            f"{where} holds an API key in the file",
            'remove it; set key_env = "NAME_OF_VARIABLE" and export the key in that variable',
        )
    _check_keys(where, table, LOCAL_KEYS if name == LOCAL else REMOTE_KEYS)
    _check_types(where, table)
    database = table.get("database", DEFAULT_DATABASE)
    _check_id(where, "database", database)
    confirm = table.get("confirm", False)
    backup = table.get("backup", "touched")
    if backup not in BACKUP_MODES:
        raise ConfigError(
            f"{where}: backup = '{backup}' is not one of {', '.join(BACKUP_MODES)}",
            'write backup = "touched" (the default), "all", "none" or "cloud"',
        )
    style = _banner_style(where, table)
    if name == LOCAL:
        env = local_environment(database, confirm=confirm, backup=backup, **_bounds(where, table))
        return replace(env, **style)
    missing = [k for k in ("endpoint", "project", "key_env") if not table.get(k)]
    if missing:
        raise ConfigError(f"{where} is missing {', '.join(missing)}", "add them to the file")
    endpoint = table["endpoint"].rstrip("/")
    if not re.match(r"^https?://", endpoint):
        raise ConfigError(
            f"{where}: endpoint '{endpoint}' is not an http(s) URL",
            "write it like https://cloud.appwrite.io/v1",
        )
    _check_id(where, "project", table["project"])
    if not _VARIABLE.match(table["key_env"]):
        raise ConfigError(
            f"{where}: key_env '{table['key_env']}' is not a variable name",
            'name the variable holding the key, e.g. key_env = "STAGING_APPWRITE_KEY"',
        )
    return Environment(
        name=name,
        endpoint=endpoint,
        project=table["project"],
        database=database,
        key_env=table["key_env"],
        self_signed=table.get("self_signed", False),
        confirm=confirm,
        backup=backup,
        **_bounds(where, table),
        **style,
    )


def _banner_style(where: str, table: dict[str, object]) -> dict[str, str | None]:
    """``color`` and ``label`` of the notebook banner; a colour goes into HTML, so only a
    #hex or a colour name is taken."""
    color = table.get("color")
    if color is not None and not _COLOR.match(color):
        raise ConfigError(
            f"{where}: color '{color}' is not a colour", 'write it like "#b3261e" or "purple"'
        )
    return {"color": color, "label": table.get("label")}


def _check_keys(where: str, table: dict[str, object], allowed: tuple[str, ...]) -> None:
    """An unknown key is a typo until proven otherwise: name it and the closest known one."""
    unknown = [k for k in table if k not in allowed]
    if not unknown:
        return
    key = unknown[0]
    if key in REMOTE_KEYS:  # a remote server's key under [environments.local]
        raise ConfigError(
            f"{where}: unknown key '{key}' (local is the embedded server)",
            f"local takes only {', '.join(allowed)}; add another environment for a server",
        )
    close = difflib.get_close_matches(key, allowed, n=1)
    guess = f"did you mean '{close[0]}'? " if close else ""
    raise ConfigError(f"{where}: unknown key '{key}'", f"{guess}allowed: {', '.join(allowed)}")


def _check_types(where: str, table: dict[str, object]) -> None:
    for key, kind in _KEY_TYPES.items():
        value = table.get(key)
        if key in table and not isinstance(value, kind):
            example = "true or false" if kind is bool else f'"{_EXAMPLES[key]}"'
            raise ConfigError(
                f"{where}: {key} = {value!r} is {_kind(value)}, not a {_TYPE_NAMES[kind]}",
                f"write it like {key} = {example}",
            )


def _kind(value: object) -> str:
    """A TOML value's kind, as the file's author thinks of it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _bounds(where: str, table: dict[str, object]) -> dict[str, float]:
    found = {}
    for name in BOUND_KEYS:
        if name not in table:
            continue
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(
                f"{where}: {name} = {value!r} is not a positive number of seconds",
                f"write it like {name} = 30",
            )
        found[name] = float(value)
    return found


def _check_id(where: str, what: str, value: str) -> None:
    if not is_appwrite_id(value):
        raise ConfigError(f"{where}: {what} '{value}' is not a valid Appwrite id", f"use {ID_RULE}")
