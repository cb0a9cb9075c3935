"""``workbook verify``: files, integrity file and ledger agree — one finding per problem.

Stable codes (CI greps them): ``modified-after-apply``, ``applied-without-file``,
``duplicate-version``, ``out-of-order``, ``sum-missing``, ``sum-outdated``, ``drift`` (the
live schema's marker differs from the one its latest successful run recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workbook.command.commands import Opened, opened
from workbook.core import integrity
from workbook.core.catalog import FILENAME, Migration, read_migration
from workbook.core.config import Workspace
from workbook.core.ledger import RunState
from workbook.core.schema_diff import live_marker
from workbook.core.status import status_rows


@dataclass(frozen=True)
class Finding:
    code: str
    version: str  # "" when it is about the folder, not one migration
    message: str


@dataclass
class Verification:
    environment: str
    migrations: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


DriftCheck = Callable[[Workspace, str | None], Finding | None]


def _drift(o: Opened) -> Finding | None:
    """The live schema against the marker its latest successful run recorded."""
    runs = [
        r
        for r in o.ledger.runs()
        if r.state in (RunState.APPLIED, RunState.STAMPED) and r.schema_after
    ]
    if not runs:
        return None
    last = runs[-1]
    live = live_marker(o.target.client, o.environment.database)
    if live == last.schema_after:
        return None
    return Finding(
        "drift",
        last.version,
        f"the schema of '{o.environment.name}' changed since run {last.run_id} "
        f"({last.version} {last.direction}) recorded it: marker {live[:12]} ≠ "
        f"{(last.schema_after or '')[:12]}; `workbook diff --env {o.environment.name}` "
        "shows what differs",
    )


def verify(
    workspace: Workspace, env: str | None, *, drift: DriftCheck | None = None
) -> Verification:
    findings: list[Finding] = []
    files = integrity.migration_files(workspace.migrations)
    by_version: dict[int, list[Path]] = {}
    for path in files:
        match = FILENAME.match(path.name)
        assert match is not None
        by_version.setdefault(int(match["version"]), []).append(path)
    for number, paths in sorted(by_version.items()):
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            findings.append(
                Finding(
                    "duplicate-version",
                    f"{number:03d}",
                    f"two migrations have version {number:03d}: {names}; renumber yours",
                )
            )
    problem = integrity.check_sum(workspace.migrations)
    if problem:
        findings.append(Finding(problem.code, "", problem.message))
    catalog: list[Migration] = [read_migration(paths[0]) for _, paths in sorted(by_version.items())]
    with opened(workspace, env, catalog) as o:
        environment = o.environment.name
        rows = status_rows(o.catalog, o.states)
        found = _drift(o) if drift is None else drift(workspace, env)
        if found:
            findings.append(found)
    latest = max(
        (int(r.version) for r in rows if r.state in ("applied", "stamped", "modified", "missing")),
        default=0,
    )
    for r in rows:
        if r.state == "modified":
            findings.append(
                Finding(
                    "modified-after-apply",
                    r.version,
                    f"{r.version} {r.description} changed after it was applied on '{environment}'",
                )
            )
        elif r.state == "missing":
            findings.append(
                Finding(
                    "applied-without-file",
                    r.version,
                    f"{r.version} {r.description} is applied on '{environment}' but has no "
                    "file in migrations/",
                )
            )
        elif r.state in ("pending", "failed") and int(r.version) < latest:
            findings.append(
                Finding(
                    "out-of-order",
                    r.version,
                    f"{r.version} {r.description} is not applied on '{environment}', but "
                    f"{latest:03d} is: it is numbered below the latest applied migration",
                )
            )
    return Verification(environment, len(catalog), findings)
