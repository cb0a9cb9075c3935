"""Where each migration stands on an environment, and which runs are allowed next."""

from __future__ import annotations

from dataclasses import dataclass

from workbook.core.catalog import Migration
from workbook.core.ledger import VersionState
from workbook.errors import WorkbookError


@dataclass(frozen=True)
class StatusRow:
    version: str
    description: str
    state: str  # applied | stamped | pending | failed | modified | running | awaiting | missing
    applied_at: str | None
    applied_by: str | None
    archive: str | None
    error: str | None = None
    rolled_back_at: str | None = None  # when its latest run rolled it back (then pending)
    run_id: str | None = None  # the latest run's id


def status_rows(catalog: list[Migration], states: dict[str, VersionState]) -> list[StatusRow]:
    """One row per migration known to the catalog or the ledger, by version."""
    rows: dict[int, StatusRow] = {}
    for m in catalog:
        vs = states.get(str(m.number))
        state = vs.state if vs else "pending"
        if state == "applied" and vs and vs.applied and not m.matches(vs.applied.checksum):
            state = "modified"
        elif state == "applied" and vs and vs.applied and vs.applied.state == "stamped":
            state = "stamped"
        last = vs.last if vs else None
        shown = vs.applied if vs and vs.applied else last
        rolled_back = last if last and state == "pending" and last.direction == "down" else None
        rows[m.number] = StatusRow(
            m.version,
            m.description,
            state,
            # a rollback's time is not an "applied at"; its "by" is who rolled it back
            (shown.finished_at or shown.started_at) if shown and not rolled_back else None,
            shown.applied_by if shown else None,
            last.archive if last else None,
            # a failed run's error; an awaiting one's step and the command that confirms it
            last.error if last and state in ("failed", "awaiting") else None,
            (rolled_back.finished_at or rolled_back.started_at) if rolled_back else None,
            last.run_id if last else None,
        )
    for key, vs in states.items():
        known = vs.state in ("applied", "failed", "running", "awaiting")
        if int(key) not in rows and known and vs.last:
            rows[int(key)] = StatusRow(
                vs.version,
                vs.last.description,
                "missing",
                vs.last.finished_at,
                vs.last.applied_by,
                vs.last.archive,
            )
    return [rows[n] for n in sorted(rows)]


def applied_versions(states: dict[str, VersionState]) -> set[int]:
    """Applied, or awaiting a confirmation to roll back (its rollback has not happened)."""
    return {
        int(k)
        for k, v in states.items()
        if v.state == "applied" or (v.state == "awaiting" and v.applied is not None)
    }


def pending(catalog: list[Migration], states: dict[str, VersionState]) -> list[Migration]:
    applied = applied_versions(states)
    return [m for m in catalog if m.number not in applied]


def check_modified(catalog: list[Migration], states: dict[str, VersionState], env: str) -> None:
    """Refuse to build on applied migrations whose notebooks changed since (like Flyway)."""
    for row in status_rows(catalog, states):
        if row.state == "modified":
            raise WorkbookError(
                f"migration {row.version} was modified after it was applied on '{env}'",
                "restore the applied version of the notebook (git), or roll it back "
                f"(`workbook down --migration {row.version} --env {env}`) and apply it again",
            )


def check_up(
    catalog: list[Migration], states: dict[str, VersionState], target: Migration, env: str
) -> None:
    applied = applied_versions(states)
    if target.number in applied:
        raise WorkbookError(
            f"migration {target.version} is already applied on '{env}'",
            f"`workbook down --migration {target.version}` first to re-run it",
        )
    missing = [m.version for m in catalog if m.number < target.number and m.number not in applied]
    if missing:
        raise WorkbookError(
            f"migration {target.version} needs {', '.join(missing)} applied first on '{env}'",
            "run `workbook up` without --migration to apply them in order",
        )


def check_down(
    catalog: list[Migration], states: dict[str, VersionState], target: Migration, env: str
) -> None:
    current = states.get(str(target.number))
    # a failed run may have half-applied its changes, an awaiting one done the cells before
    # its gate: rolling either back is allowed
    if current is None or current.state not in ("applied", "failed", "awaiting"):
        raise WorkbookError(
            f"migration {target.version} is not applied on '{env}'", "see `workbook status`"
        )
    if not target.reversible:
        raise WorkbookError(
            f"migration {target.version} is irreversible: it has no %%down cells",
            "restore from the backup under history/<env>/backups, or write a new migration",
        )
    later = sorted(n for n in applied_versions(states) if n > target.number)
    if later:
        names = ", ".join(f"{n:03d}" for n in later)
        raise WorkbookError(
            f"migration {target.version} cannot be rolled back while {names} "
            f"{'is' if len(later) == 1 else 'are'} applied on '{env}'",
            "roll those back first: `workbook down` rolls back the latest one",
        )


def last_applied(catalog: list[Migration], states: dict[str, VersionState], env: str) -> Migration:
    applied = applied_versions(states)
    for m in reversed(catalog):
        if m.number in applied:
            return m
    raise WorkbookError(
        f"nothing is applied on '{env}'; there is nothing to roll back", "see `workbook status`"
    )
