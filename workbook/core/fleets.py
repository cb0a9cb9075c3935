"""Fleets: ``[fleets.NAME]`` in workbook.toml, many environments that get the same migrations.

A fleet either lists environments (``environments = ["eu", "us"]``) or generates one per
tenant from a template environment and a tenants file (CSV or TOML) naming each tenant's
id, project, database and key variable::

    [fleets.tenants]
    template = "tenant"          # an [environments.tenant]: endpoint, bounds, backup
    tenants = "tenants.csv"      # tenant,project,database,key_env
    canary = ["acme"]            # optional: run first; a failure stops the rollout
    per_endpoint = 4             # optional: at most this many runs at once per endpoint

A generated environment is named after its tenant id and is known everywhere an
environment name is (the kernel resolves it like any other), so it must not clash with
an environment of the file.
"""

from __future__ import annotations

import csv
import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbook.core.ids import ID_RULE, is_appwrite_id
from workbook.errors import ConfigError

COLUMNS = ("tenant", "project", "database", "key_env")
FLEET_KEYS = ("environments", "template", "tenants", "canary", "per_endpoint")
DEFAULT_PER_ENDPOINT = 4


@dataclass(frozen=True)
class Fleet:
    name: str
    environments: tuple[str, ...]
    canary: tuple[str, ...] = ()
    per_endpoint: int = DEFAULT_PER_ENDPOINT
    tenants_file: Path | None = None

    def groups(self) -> list[tuple[str, ...]]:
        """Run order: the canary group first, then everyone else."""
        rest = tuple(e for e in self.environments if e not in self.canary)
        return [g for g in (self.canary, rest) if g]


def fleet_tables(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    tables = data.get("fleets", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ConfigError(
            f"{path.name}: fleets must be [fleets.NAME] tables",
            'write e.g. [fleets.tenants] with template = "tenant" and tenants = "tenants.csv"',
        )
    return tables


def tenant_environments(path: Path, data: dict[str, Any], envs: dict[str, Any]) -> dict[str, Any]:
    """The environments the fleets' tenants files generate, each from its template."""
    out: dict[str, Any] = {}
    for name, table in fleet_tables(path, data).items():
        if "template" not in table:
            continue
        for tenant in _read_tenants(path, name, table, envs):
            env = envs[table["template"]]
            if tenant["tenant"] in envs or tenant["tenant"] in out:
                raise ConfigError(
                    f"{tenant['where']}: tenant '{tenant['tenant']}' is also an environment",
                    "give the tenant another id",
                )
            out[tenant["tenant"]] = dataclasses.replace(
                env,
                name=tenant["tenant"],
                project=tenant["project"],
                database=tenant["database"],
                key_env=tenant["key_env"],
            )
    return out


def load_fleet(path: Path, data: dict[str, Any], envs: dict[str, Any], name: str) -> Fleet:
    tables = fleet_tables(path, data)
    if name not in tables:
        known = ", ".join(sorted(tables)) or "none defined"
        raise ConfigError(
            f"unknown fleet '{name}' (fleets: {known})",
            f"add [fleets.{name}] to {path.name}",
        )
    table = tables[name]
    where = f"{path.name} [fleets.{name}]"
    unknown = sorted(set(table) - set(FLEET_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {', '.join(unknown)}", f"use {FLEET_KEYS}")
    if "template" in table:
        names = tuple(t["tenant"] for t in _read_tenants(path, name, table, envs))
    else:
        listed = table.get("environments")
        if not isinstance(listed, list) or not listed:
            raise ConfigError(
                f"{where} names no environments",
                'write environments = ["a", "b"], or template = … with tenants = …',
            )
        missing = [e for e in listed if e not in envs]
        if missing:
            raise ConfigError(f"{where}: unknown environment {', '.join(missing)}", "add them")
        names = tuple(listed)
    canary = table.get("canary", [])
    strangers = [c for c in canary if c not in names]
    if strangers:
        raise ConfigError(f"{where}: canary {', '.join(strangers)} is not in the fleet", "fix it")
    per_endpoint = table.get("per_endpoint", DEFAULT_PER_ENDPOINT)
    if not isinstance(per_endpoint, int) or per_endpoint < 1:
        raise ConfigError(f"{where}: per_endpoint must be a positive integer", "e.g. 4")
    tenants = path.parent / table["tenants"] if "tenants" in table else None
    return Fleet(name, names, tuple(canary), per_endpoint, tenants)


def _read_tenants(
    path: Path, fleet: str, table: dict[str, Any], envs: dict[str, Any]
) -> list[dict[str, str]]:
    where = f"{path.name} [fleets.{fleet}]"
    template = table.get("template")
    if template not in envs:
        raise ConfigError(
            f"{where}: template '{template}' is not an environment",
            f"add [environments.{template}] (endpoint, key_env …) to {path.name}",
        )
    if not isinstance(table.get("tenants"), str):
        raise ConfigError(f"{where} has a template but no tenants file", 'add tenants = "…csv"')
    source = path.parent / table["tenants"]
    if not source.is_file():
        raise ConfigError(f"{where}: no tenants file at {source}", "create it or fix the path")
    rows = _csv_rows(source) if source.suffix.lower() == ".csv" else _toml_rows(source)
    seen: dict[str, str] = {}
    out = []
    for row_where, row in rows:
        missing = [c for c in COLUMNS if not str(row.get(c) or "").strip()]
        if missing:
            raise ConfigError(f"{row_where}: missing {', '.join(missing)}", f"give {COLUMNS}")
        tenant = {c: str(row[c]).strip() for c in COLUMNS}
        if tenant["tenant"] in seen:
            raise ConfigError(
                f"{row_where}: tenant '{tenant['tenant']}' repeats {seen[tenant['tenant']]}",
                "each tenant id once",
            )
        for column in ("tenant", "project", "database"):
            if not is_appwrite_id(tenant[column]):
                raise ConfigError(
                    f"{row_where}: {column} '{tenant[column]}' is not a valid Appwrite id", ID_RULE
                )
        seen[tenant["tenant"]] = row_where
        out.append({**tenant, "where": row_where})
    return out


def _csv_rows(source: Path) -> list[tuple[str, dict[str, str]]]:
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ConfigError(
                f"{source.name} line 1: missing column {', '.join(missing)}",
                f"the header names {', '.join(COLUMNS)}",
            )
        return [
            (f"{source.name} line {reader.line_num}", {k.strip(): v for k, v in row.items() if k})
            for row in reader
        ]


def _toml_rows(source: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source.name} is not valid TOML: {exc}", "fix its syntax") from exc
    tenants = data.get("tenants", [])
    if not isinstance(tenants, list):
        raise ConfigError(f"{source.name}: tenants must be [[tenants]] tables", "see README")
    return [(f"{source.name} [[tenants]] #{i}", dict(t)) for i, t in enumerate(tenants, 1)]
