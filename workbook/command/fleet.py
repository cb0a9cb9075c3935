"""``workbook up --fleet``: one migration set applied to many environments on Dask.

Each tenant is one Dask task that runs that environment's pending sequence through the
ordinary ``commands.up`` (its own lock, ledger, backups and pre-warmed kernels). The task
carries the workspace files a run needs (workbook.toml, the tenants file, the migrations)
and returns its results and the files its runs wrote under ``history/<env>/``, which the
client writes into its own history: workers need no shared disk. With no scheduler
address, a ``LocalCluster`` of processes (one thread each) sized by ``--parallel``.

Groups run in order (the canary group first); a failure in a group stops the rollout
after it, and without ``--continue-on-error`` tenants not yet started are skipped. Tasks
are never retried: a migration is not idempotent by magic.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbook.core.config import Workspace
from workbook.core.fleets import Fleet, load_fleet
from workbook.errors import ConfigError, WorkbookError

SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT = 10.0


@dataclass
class TenantRun:
    """One tenant's outcome: its runs (or the error that stopped it before any)."""

    environment: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False
    seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.skipped and self.error is None and all(r["ok"] for r in self.runs)

    @property
    def state(self) -> str:
        if self.skipped:
            return "skipped"
        return "ok" if self.ok else "failed"

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("files")
        out["state"] = self.state
        return out


@dataclass
class FleetReport:
    fleet: str
    tenants: list[TenantRun]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tenants)

    @property
    def failed(self) -> list[TenantRun]:
        return [t for t in self.tenants if t.state == "failed"]

    def to_json(self) -> dict[str, Any]:
        return {
            "fleet": self.fleet,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "tenants": [t.summary() for t in self.tenants],
        }


def fleet_of(workspace: Workspace, name: str) -> Fleet:
    """The fleet ``[fleets.NAME]`` of workbook.toml, checked whole (tenants file included)."""
    path = workspace.config_file
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return load_fleet(path, data, workspace.environments(), name)


def bundle(workspace: Workspace, fleet: Fleet) -> dict[str, bytes]:
    """What a worker needs to run a tenant, as relative path → content."""
    files = [workspace.config_file] if workspace.config_file.is_file() else []
    files += [p for p in sorted(workspace.migrations.rglob("*")) if p.is_file()]
    if fleet.tenants_file is not None:
        files.append(fleet.tenants_file)
    out = {}
    for path in files:
        if not path.resolve().is_relative_to(workspace.root.resolve()):
            raise ConfigError(
                f"{path} is outside the workspace {workspace.root}",
                "keep the tenants file inside the workspace folder",
            )
        out[str(path.resolve().relative_to(workspace.root.resolve()))] = path.read_bytes()
    return out


def run_tenant(
    files: dict[str, bytes],
    environment: str,
    *,
    dry_run: bool = False,
    to: str | None = None,
    endpoint: str | None = None,
    per_endpoint: int = 0,
    stop: str | None = None,
) -> TenantRun:
    """A Dask task: one environment's pending sequence in a scratch copy of the workspace."""
    if stop and _stop_event(stop).is_set():
        return TenantRun(environment, skipped=True)
    with (
        _endpoint_slot(endpoint, per_endpoint),
        tempfile.TemporaryDirectory(prefix=f"workbook-{environment}-") as scratch,
    ):
        if stop and _stop_event(stop).is_set():
            return TenantRun(environment, skipped=True)
        root = Path(scratch)
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        return _run_here(Workspace(root), environment, dry_run, to)


def _run_here(workspace: Workspace, environment: str, dry_run: bool, to: str | None) -> TenantRun:
    from workbook.command import commands

    clock = time.monotonic()
    tenant = TenantRun(environment)
    try:
        for r in commands.up(workspace, [environment], dry_run=dry_run, to=to):
            tenant.runs.append(
                {
                    "version": r.migration.version,
                    "migration": r.migration.name,
                    "status": r.status,
                    "ok": r.ok,
                    "seconds": r.seconds,
                    "error": r.error,
                    "archive": str(r.archive.relative_to(workspace.root)),
                }
            )
    except WorkbookError as exc:
        tenant.error = f"{exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    except Exception as exc:  # a task reports, it does not crash the rollout
        tenant.error = f"{type(exc).__name__}: {exc}"
    tenant.seconds = round(time.monotonic() - clock, 3)
    history = workspace.history_dir(environment)
    if history.is_dir():
        for path in sorted(history.rglob("*")):
            if path.is_file():
                tenant.files[str(path.relative_to(workspace.root))] = path.read_bytes()
    return tenant


@contextlib.contextmanager
def _endpoint_slot(endpoint: str | None, limit: int) -> Iterator[None]:
    """At most ``limit`` tenants of one endpoint run at once, across the whole cluster."""
    if not endpoint or limit <= 0:
        yield
        return
    from distributed import Semaphore

    with Semaphore(max_leases=limit, name=f"workbook-endpoint:{endpoint}"):
        yield


def _stop_event(name: str) -> Any:
    from distributed import Event

    return Event(name)


@contextlib.contextmanager
def dask_client(parallel: int, scheduler: str | None) -> Iterator[Any]:
    """A client of the given scheduler, or of a LocalCluster of ``parallel`` processes."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise WorkbookError(
            "fleets run on Dask, which is not installed",
            'pip install "appwrite-workbook[fleet]"',
        ) from exc
    address = scheduler or os.environ.get(SCHEDULER_VARIABLE)
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise WorkbookError(
                f"the Dask scheduler at {address} did not answer within {CONNECT_TIMEOUT:g}s",
                "check the address (tcp://host:8786), or leave --scheduler out to run locally",
            ) from exc
        with client:
            yield client
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=max(1, parallel),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with cluster, Client(cluster) as client:
            yield client


def up(
    workspace: Workspace,
    name: str,
    *,
    parallel: int = 2,
    scheduler: str | None = None,
    continue_on_error: bool = False,
    dry_run: bool = False,
    to: str | None = None,
    on_tenant: Callable[[TenantRun], None] | None = None,
) -> FleetReport:
    """Run every tenant's pending migrations; write their archives under history/<env>/."""
    fleet = fleet_of(workspace, name)  # every refusal before a cluster starts
    envs = workspace.environments()
    files = bundle(workspace, fleet)
    from distributed import as_completed

    clock = time.monotonic()
    done: dict[str, TenantRun] = {}
    with dask_client(parallel, scheduler) as client:
        stop = f"workbook-stop-{uuid.uuid4().hex}"
        stopped = False
        for group in fleet.groups():
            if stopped:
                break
            futures = [
                client.submit(
                    run_tenant,
                    files,
                    env,
                    dry_run=dry_run,
                    to=to,
                    endpoint=envs[env].endpoint,
                    per_endpoint=fleet.per_endpoint,
                    stop=stop,
                    key=f"workbook-{env}-{uuid.uuid4().hex[:8]}",
                    retries=0,
                    pure=False,
                )
                for env in group
            ]
            try:
                for future in as_completed(futures):
                    tenant = _outcome(future, group[futures.index(future)])
                    _write_back(workspace, tenant)
                    done[tenant.environment] = tenant
                    if on_tenant:
                        on_tenant(tenant)
                    if tenant.state == "failed" and not continue_on_error and not stopped:
                        stopped = True
                        _stop_event_for(client, stop).set()
            except KeyboardInterrupt:
                _stop_event_for(client, stop).set()  # running tenants finish or fail honestly
                raise
            if any(done[e].state == "failed" for e in group if e in done):
                stopped = True
    tenants = [done.get(e, TenantRun(e, skipped=True)) for e in fleet.environments]
    return FleetReport(fleet.name, tenants, time.monotonic() - clock)


def _stop_event_for(client: Any, name: str) -> Any:
    from distributed import Event

    return Event(name, client=client)


def _outcome(future: Any, environment: str) -> TenantRun:
    try:
        return future.result()
    except Exception as exc:  # the worker died, or the task could not be run at all
        return TenantRun(
            environment,
            error=f"the worker running it was lost ({type(exc).__name__}: {exc}); "
            "its run is settled as failed when its lease expires, `workbook up --fleet` "
            "again resumes it",
        )


def _write_back(workspace: Workspace, tenant: TenantRun) -> None:
    for rel, content in tenant.files.items():
        path = workspace.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def status(workspace: Workspace, name: str) -> dict[str, Any]:
    """A tenants × migrations matrix of states (an error per tenant that cannot be read)."""
    from workbook.command import commands

    fleet = fleet_of(workspace, name)
    versions: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for env in fleet.environments:
        try:
            _, status_rows = commands.status(workspace, env)
        except WorkbookError as exc:
            rows[env] = {"error": exc.message}
            continue
        states = {}
        for row in status_rows:
            version = getattr(row, "version", None)
            if version is None:
                continue
            if version not in versions:
                versions.append(version)
            states[version] = str(getattr(row, "state", ""))
        rows[env] = {"states": states}
    return {"fleet": fleet.name, "versions": sorted(versions), "tenants": rows}
