"""Environments: where a run goes, and the *name* of the variable holding its key.

Precedence follows one rule everywhere: flag > ``WORKBOOK_*`` variable > ``workbook.toml`` >
built-in default. The API key itself is only ever read from the environment, wrapped in
:class:`Secret` so it cannot leak through a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workbook.errors import ConfigError
from workbook.secrets import Secret
from workbook.settings import CELL_TIMEOUT, ENV, HTTP_TIMEOUT, LEASE_SECONDS, LOCAL_KEY, WORKSPACE

CONFIG_FILE = "workbook.toml"
LOCAL = "local"
LOCAL_PROJECT = "workbook-local"
DEFAULT_DATABASE = "main"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")


DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_CELL_TIMEOUT = 3600.0
DEFAULT_LEASE_SECONDS = 60.0
BOUND_KEYS = ("http_timeout", "cell_timeout", "lease_seconds")


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
    extra: dict[str, object] = field(default_factory=dict, compare=False)

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


def local_environment(database: str = DEFAULT_DATABASE, **bounds: float) -> Environment:
    return Environment(
        name=LOCAL, project=LOCAL_PROJECT, database=database, key_env=LOCAL_KEY.name, **bounds
    )


def load_environments(path: Path) -> dict[str, Environment]:
    """Read ``[environments.NAME]`` tables; ``local`` is always there."""
    envs = {LOCAL: local_environment()}
    if not path.is_file():
        return envs
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}", "fix the file's syntax") from exc
    for name, table in (data.get("environments") or {}).items():
        envs[name] = _environment(path.name, name, table)
    return envs


def _environment(source: str, name: str, table: object) -> Environment:
    where = f"{source} [environments.{name}]"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: bad environment name", "use letters, digits, '-' or '_'")
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table", "write it as [environments.NAME]")
    if "key" in table or "api_key" in table:
        raise ConfigError(
            f"{where} holds an API key in the file",
            'remove it; set key_env = "NAME_OF_VARIABLE" and export the key in that variable',
        )
    if name == LOCAL:
        database = str(table.get("database", DEFAULT_DATABASE))
        _check_id(where, "database", database)
        return local_environment(database, **_bounds(where, table))
    missing = [k for k in ("endpoint", "project", "key_env") if not table.get(k)]
    if missing:
        raise ConfigError(f"{where} is missing {', '.join(missing)}", "add them to the file")
    endpoint = str(table["endpoint"]).rstrip("/")
    if not re.match(r"^https?://", endpoint):
        raise ConfigError(
            f"{where}: endpoint '{endpoint}' is not an http(s) URL",
            "write it like https://cloud.appwrite.io/v1",
        )
    database = str(table.get("database", DEFAULT_DATABASE))
    _check_id(where, "project", str(table["project"]))
    _check_id(where, "database", database)
    known = {"endpoint", "project", "database", "key_env", "self_signed", "confirm", *BOUND_KEYS}
    return Environment(
        name=name,
        endpoint=endpoint,
        project=str(table["project"]),
        database=database,
        key_env=str(table["key_env"]),
        self_signed=bool(table.get("self_signed", False)),
        confirm=bool(table.get("confirm", False)),
        **_bounds(where, table),
        extra={k: v for k, v in table.items() if k not in known},
    )


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
    if not _ID.match(value):
        raise ConfigError(
            f"{where}: {what} '{value}' is not a valid Appwrite id",
            "use up to 36 of a-z, A-Z, 0-9, '.', '-', '_', not starting with a symbol",
        )
