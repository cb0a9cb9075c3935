"""``workbook up --fleet``: one migration set applied to many environments on Dask.

Each tenant is one Dask task that runs that environment's pending sequence through the
ordinary ``commands.up`` (its own lock, ledger, backups and pre-warmed kernels). The task
carries the workspace files a run needs (workbook.toml, the tenants file, the migrations)
and returns its results and the files its runs wrote under ``history/<env>/``, which the
client writes into its own history: workers need no shared disk. With no scheduler
address, a ``LocalCluster`` of processes (one thread each) sized by ``--parallel``.

Tasks report their progress (migration n of N) through a Dask queue, which the client
drains into ``on_progress`` while it waits. Groups run in order (the canary group first);
a failure in a group stops the rollout after it, and without ``--continue-on-error``
tenants not yet started are skipped. Tasks are never retried: a migration is not
idempotent by magic (only a kernel that fails to start is started again, by the pool).

Ctrl-C stops the rollout cleanly: a stop event tells every task; tenants not started are
skipped, a running tenant finishes the migration it is in and stops there (its lock
released, its ledger settled), and the client waits for them (bounded) before the local
cluster is closed. A second Ctrl-C stops waiting.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbook.command.fleet_page import write_page
from workbook.core.config import Workspace
from workbook.core.fleets import Fleet, load_fleet
from workbook.errors import ConfigError, WorkbookError

SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT = 10.0
POLL_SECONDS = 0.25
# After Ctrl-C, how long running tenants get to finish the migration they are in.
STOP_GRACE_SECONDS = 30 * 60.0


@dataclass
class TenantRun:
    """One tenant's outcome: its runs (or the error that stopped it before any)."""

    environment: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    skipped: bool = False
    stopped: bool = False  # Ctrl-C: it stopped after the migration it was in
    pending: int = 0  # migrations it had to run (its n/N's N)
    seconds: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return (
            not self.skipped
            and not self.stopped
            and self.error is None
            and all(r["ok"] for r in self.runs)
        )

    @property
    def state(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error is None and all(r["ok"] for r in self.runs):
            return "stopped" if self.stopped else "ok"
        if self.error is None and self.awaiting_run is not None:
            return "awaiting"  # a checklist gate: a person's step, not a failure
        return "failed"

    @property
    def awaiting_run(self) -> dict[str, Any] | None:
        """Its last run, when it stopped at a checklist gate after the others applied."""
        *before, last = self.runs or [{}]
        ok = all(r["ok"] for r in before)
        return last if ok and last.get("status") == "awaiting" else None

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
    interrupted: bool = False
    page: Path | None = None  # the HTML summary in the history site, once written

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(t.ok for t in self.tenants)

    @property
    def failed(self) -> list[TenantRun]:
        return [t for t in self.tenants if t.state == "failed"]

    @property
    def awaiting(self) -> list[TenantRun]:
        return [t for t in self.tenants if t.state == "awaiting"]

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.tenants)

    def to_json(self) -> dict[str, Any]:
        return {
            "fleet": self.fleet,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "page": str(self.page) if self.page else None,
            "tenants": [t.summary() for t in self.tenants],
        }


@dataclass(frozen=True)
class Progress:
    """What a task says while it runs: its tenant, migration n of N, state, seconds."""

    environment: str
    state: str  # queued, waiting, running, ok, failed, awaiting, stopped, skipped
    done: int = 0
    total: int = 0
    version: str | None = None
    seconds: float = 0.0


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
    progress: str | None = None,
) -> TenantRun:
    """A Dask task: one environment's pending sequence in a scratch copy of the workspace."""
    tell = _teller(progress, environment)
    if _stopping(stop):
        return TenantRun(environment, skipped=True)
    tell(Progress(environment, "waiting"))
    with (
        _endpoint_slot(endpoint, per_endpoint),
        tempfile.TemporaryDirectory(prefix=f"workbook-{environment}-") as scratch,
    ):
        if _stopping(stop):
            return TenantRun(environment, skipped=True)
        root = Path(scratch)
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        return _run_here(Workspace(root), environment, dry_run, to, tell, lambda: _stopping(stop))


class _Stop(Exception):
    """Raised between two migrations of a tenant when the rollout is being stopped."""


def _run_here(
    workspace: Workspace,
    environment: str,
    dry_run: bool,
    to: str | None,
    tell: Callable[[Progress], None] = lambda p: None,
    stopping: Callable[[], bool] = lambda: False,
) -> TenantRun:
    from workbook.command import commands

    clock = time.monotonic()
    tenant = TenantRun(environment)

    def elapsed() -> float:
        return round(time.monotonic() - clock, 3)

    def started(_env: Any, todo: list[Any]) -> None:
        tenant.pending = len(todo)
        first = todo[0].version if todo else None
        tell(Progress(environment, "running", 0, len(todo), first, elapsed()))

    def finished(r: Any) -> None:
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
        done = len(tenant.runs)
        more = r.ok and done < tenant.pending
        state = "running" if more else ("ok" if r.ok else _stopped_as(r.status))
        tell(Progress(environment, state, done, tenant.pending, r.migration.version, elapsed()))
        if more and stopping():
            raise _Stop  # leaving the sequence here releases its lock (commands.up's finally)

    try:
        commands.up(
            workspace, [environment], dry_run=dry_run, to=to, on_start=started, on_result=finished
        )
    except _Stop:
        tenant.stopped = True
    except WorkbookError as exc:
        tenant.error = f"{exc.message}" + (f" ({exc.hint})" if exc.hint else "")
    except Exception as exc:  # a task reports, it does not crash the rollout
        tenant.error = f"{type(exc).__name__}: {exc}"
    tenant.seconds = elapsed()
    history = workspace.history_dir(environment)
    if history.is_dir():
        for path in sorted(history.rglob("*")):
            if path.is_file():
                tenant.files[str(path.relative_to(workspace.root))] = path.read_bytes()
    return tenant


def _stopped_as(status: str) -> str:
    """A run that did not finish: ``awaiting`` at a checklist gate, else ``failed``."""
    return "awaiting" if status == "awaiting" else "failed"


def _teller(queue_name: str | None, environment: str) -> Callable[[Progress], None]:
    """Progress put on the client's queue (dropped when there is none, or it is gone)."""
    if not queue_name:
        return lambda p: None
    from distributed import Queue

    queue = Queue(queue_name)

    def tell(p: Progress) -> None:
        with contextlib.suppress(Exception):  # progress is for display; never fail a run
            queue.put(asdict(p))

    return tell


def _stopping(name: str | None) -> bool:
    if not name:
        return False
    from distributed import Event

    return bool(Event(name).is_set())


@contextlib.contextmanager
def _endpoint_slot(endpoint: str | None, limit: int) -> Iterator[None]:
    """At most ``limit`` tenants of one endpoint run at once, across the whole cluster."""
    if not endpoint or limit <= 0:
        yield
        return
    from distributed import Semaphore

    with Semaphore(max_leases=limit, name=f"workbook-endpoint:{endpoint}"):
        yield


def _ignore_interrupts() -> None:
    """In a local worker process: Ctrl-C at the terminal reaches the whole process group;
    the client decides what stops (a worker killed by it would leave its tenant locked)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def local_cluster(parallel: int) -> Iterator[Any]:
    """A LocalCluster of ``parallel`` processes, one thread each, whose tasks are never
    retried (a worker lost mid-run fails its task) and whose workers ignore Ctrl-C."""
    import dask
    from distributed import Client, LocalCluster
    from distributed.diagnostics.plugin import WorkerPlugin

    class IgnoreInterrupts(WorkerPlugin):
        """Every worker, restarted ones too, ignores Ctrl-C (see ``_ignore_interrupts``)."""

        def setup(self, worker: Any) -> None:
            with contextlib.suppress(ValueError):  # not the main thread: nothing to set
                _ignore_interrupts()

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=max(1, parallel),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,  # its own chatter (a slow worker at close) is noise
        )
    with cluster:
        with Client(cluster) as client:
            client.register_plugin(IgnoreInterrupts(), name="workbook-ignore-interrupts")
        yield cluster


@contextlib.contextmanager
def dask_client(parallel: int, scheduler: str | None) -> Iterator[Any]:
    """A client of the given scheduler, or of a LocalCluster of ``parallel`` processes."""
    try:
        from distributed import Client
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
    with local_cluster(parallel) as cluster, Client(cluster) as client:
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
    on_progress: Callable[[Progress], None] | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> FleetReport:
    """Run every tenant's pending migrations; write their archives under history/<env>/."""
    fleet = fleet_of(workspace, name)  # every refusal before a cluster starts
    envs = workspace.environments()
    files = bundle(workspace, fleet)
    tell = on_progress or (lambda p: None)
    for env in fleet.environments:
        tell(Progress(env, "queued"))
    clock = time.monotonic()
    done: dict[str, TenantRun] = {}
    rollout = _Rollout(done, continue_on_error, on_tenant, tell, on_interrupt)
    with dask_client(parallel, scheduler) as client:
        from distributed import Event, Queue

        stop, progress = (f"workbook-{k}-{uuid.uuid4().hex}" for k in ("stop", "progress"))
        rollout.stop_event, rollout.queue = (
            Event(stop, client=client),
            Queue(progress, client=client),
        )
        for group in fleet.groups():
            if rollout.halted:
                break
            futures = {
                client.submit(
                    run_tenant,
                    files,
                    env,
                    dry_run=dry_run,
                    to=to,
                    endpoint=envs[env].endpoint,
                    per_endpoint=fleet.per_endpoint,
                    stop=stop,
                    progress=progress,
                    key=f"workbook-{env}-{uuid.uuid4().hex[:8]}",
                    retries=0,
                    pure=False,
                ): env
                for env in group
            }
            rollout.collect(workspace, futures)
            # a group that did not finish (failed, or awaiting a person) holds the next back
            if any(done[e].state in ("failed", "awaiting") for e in group if e in done):
                rollout.halted = True
    tenants = [done.get(e) or TenantRun(e, skipped=True) for e in fleet.environments]
    for t in tenants:
        if t.environment not in done:
            tell(Progress(t.environment, "skipped"))
    report = FleetReport(fleet.name, tenants, time.monotonic() - clock, rollout.interrupted)
    report.page = write_page(workspace.history, report)
    return report


@dataclass
class _Rollout:
    """The client's side of a rollout: collect results, relay progress, stop on Ctrl-C."""

    done: dict[str, TenantRun]
    continue_on_error: bool
    on_tenant: Callable[[TenantRun], None] | None
    tell: Callable[[Progress], None]
    on_interrupt: Callable[[], None] | None
    halted: bool = False
    interrupted: bool = False
    stop_event: Any = None
    queue: Any = None

    def collect(self, workspace: Workspace, futures: dict[Any, str]) -> None:
        """Wait for the group's tasks, writing each tenant back as it finishes."""
        from distributed import wait

        pending = set(futures)
        deadline = float("inf")
        while pending:
            try:
                try:
                    finished, pending = wait(
                        pending, timeout=POLL_SECONDS, return_when="FIRST_COMPLETED"
                    )
                except TimeoutError:
                    finished = set()
                self._relay()
                for future in finished:
                    self._settled(workspace, _outcome(future, futures[future]))
            except KeyboardInterrupt:
                if self.interrupted:
                    raise  # the second Ctrl-C: stop waiting (leases settle what was running)
                self.stop("interrupted")
                deadline = time.monotonic() + STOP_GRACE_SECONDS
            if time.monotonic() > deadline:
                raise KeyboardInterrupt
        self._relay()

    def stop(self, why: str) -> None:
        self.halted = True
        self.stop_event.set()
        if why == "interrupted":
            self.interrupted = True
            if self.on_interrupt:
                self.on_interrupt()

    def _settled(self, workspace: Workspace, tenant: TenantRun) -> None:
        _write_back(workspace, tenant)
        self.done[tenant.environment] = tenant
        self.tell(
            Progress(
                tenant.environment,
                tenant.state,
                sum(r["ok"] for r in tenant.runs),
                tenant.pending,
                tenant.runs[-1]["version"] if tenant.runs else None,
                tenant.seconds,
            )
        )
        if self.on_tenant:
            self.on_tenant(tenant)
        if tenant.state == "failed" and not self.continue_on_error and not self.halted:
            self.stop("failed")

    def _relay(self) -> None:
        with contextlib.suppress(Exception):  # progress is for display only
            for item in self.queue.get(batch=True):
                self.tell(Progress(**item))


def _outcome(future: Any, environment: str) -> TenantRun:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as exc:  # the worker process died while it ran this tenant
        return TenantRun(
            environment,
            error=f"the worker running it was lost ({exc}); its run is settled as failed "
            "when its lease expires, and `workbook up --fleet` again resumes it",
        )
    except Exception as exc:  # the task could not run at all (e.g. a worker's Workbook)
        return TenantRun(environment, error=f"the task failed: {type(exc).__name__}: {exc}")


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
