"""Pre-warmed kernels: while one migration runs, the next one's kernel is already up.

A sequence of N migrations used to pay N kernel starts and N imports of Workbook, pandas
and the SDK, one after the other. The pool owned by a sequence starts the kernel for run
k+1 (and imports those modules in it) while run k executes, so the sequence waits for one
start, not N. Isolation stays: every run gets its own fresh kernel, shut down after it.

The pool is a context manager: on leaving it (success, failure, Ctrl-C) every kernel it
started and still alive is shut down, so no kernel outlives its sequence.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from workbook.settings import PREWARM

ENGINE = "workbook-prewarmed"
# Imported in each kernel before it is handed over: what every migration imports anyway.
WARM_UP = "import workbook, workbook.runtime.session, pandas, appwrite"
START_TIMEOUT = 60.0
# Kernels starting while a run executes. A start (process, ipykernel, the imports above)
# takes longer than a trivial run, so with one ahead each run waits for the rest of the
# next start; with two, starts overlap and a sequence waits for neither on two cores.
AHEAD = 2
START_TRIES = 3  # a kernel that fails to start is started again, this many times in all
START_BACKOFF = 0.5  # seconds before the second try, doubled before each further one
ASYNC_CLIENT = "jupyter_client.asynchronous.AsyncKernelClient"

log = logging.getLogger(__name__)


class _AbandonedPollNoise(logging.Filter):
    """nbclient leaves its kernel-liveness poll task behind when a run is interrupted
    (Ctrl-C, a cell timeout); asyncio reports that task when it is collected, as a
    traceback after the one line the CLI already said. Only that report is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Task exception was never retrieved" not in record.getMessage()


logging.getLogger("asyncio").addFilter(_AbandonedPollNoise())


def enabled() -> bool:
    """Pre-warming is on unless ``WORKBOOK_PREWARM`` is 0/false/no/off."""
    return (PREWARM.get() or "1").lower() not in ("0", "false", "no", "off")


class KernelPool:
    """Kernels for the ``count`` runs of one sequence, each started ``AHEAD`` runs ahead.

    ``take()`` hands over the next kernel (started with the sequence's environment and
    warmed up), or None when it could not be started, in which case papermill starts one
    itself as it always did (a failed start is retried, never the migration). With
    ``ahead=False`` (pre-warming off) each kernel starts in ``take()``, under the same
    retries.
    """

    def __init__(
        self,
        count: int,
        env: Mapping[str, str | None],
        cwd: Path,
        kernel_name: str,
        extra_arguments: list[str],
        ahead: bool = True,
    ) -> None:
        base = {k: v for k, v in os.environ.items() if k not in env}
        self._env = {**base, **{k: v for k, v in env.items() if v}}
        self._cwd = str(cwd)
        self._kernel_name = kernel_name
        self._extra_arguments = list(extra_arguments)
        self._remaining = count
        self._ahead = ahead  # start kernels runs early, or each one when its run begins
        self._started: list[Any] = []
        self._starting: deque[_Start] = deque()
        self._closed = False
        self._lock = threading.Lock()
        self.last_error: str | None = None  # why the last pre-start failed, for diagnosis
        self.failed_starts = 0  # kernels that failed to start (and were started again)
        self._prepare()

    def _prepare(self) -> None:
        """Keep ``AHEAD`` kernels starting, never more than the sequence has runs left."""
        while self._ahead and self._remaining > 0 and len(self._starting) < AHEAD:
            with self._lock:
                if self._closed:
                    return
                self._remaining -= 1
                self._starting.append(_Start(self))

    def take(self) -> Any | None:
        """The warmed kernel manager for the next run; the ones after start meanwhile."""
        if not self._starting:
            if self._ahead or self._remaining <= 0:
                return None
            self._remaining -= 1
            return self._launch()
        km = self._starting.popleft().result()
        self._prepare()
        return km

    def _launch(self) -> Any | None:
        """A started, warmed-up kernel, or None. A kernel that fails to start (it exited,
        or never answered) is started again, up to ``START_TRIES`` times with a growing
        pause: that is the one failure retried, since nothing of the migration ran yet."""
        for attempt in range(START_TRIES):
            if attempt:
                time.sleep(START_BACKOFF * 2 ** (attempt - 1))
            with self._lock:
                if self._closed:
                    return None
            km = self._launch_once()
            if km is not None or self._closed:
                return km
        return None

    def _launch_once(self) -> Any | None:
        from jupyter_client import KernelManager

        # nbclient polls an asynchronous client: it notices a kernel dying mid-cell at once
        km = KernelManager(kernel_name=self._kernel_name, client_class=ASYNC_CLIENT)
        with self._lock:
            if self._closed:
                return None
            self._started.append(km)
        try:
            km.start_kernel(extra_arguments=self._extra_arguments, env=self._env, cwd=self._cwd)
            _warm_up(km)
        except Exception as exc:  # papermill will start its own kernel and say why if it fails
            log.debug("pre-warming a kernel failed: %s", exc)
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.failed_starts += 1
            _shutdown(km)
            return None
        with self._lock:
            if self._closed:  # the sequence ended while this kernel started
                _shutdown(km)
                return None
        return km

    def close(self) -> None:
        """Shut down every kernel this pool started that is still alive."""
        with self._lock:
            self._closed = True
            pending, self._starting = list(self._starting), deque()
        for start in pending:
            start.thread.join(START_TIMEOUT)
        with self._lock:
            started, self._started = self._started, []
        for km in started:
            _shutdown(km)


class _Start:
    """One kernel starting in a background thread."""

    def __init__(self, pool: KernelPool) -> None:
        self._km: Any | None = None
        self.thread = threading.Thread(target=self._run, args=(pool,), daemon=True)
        self.thread.start()

    def _run(self, pool: KernelPool) -> None:
        self._km = pool._launch()

    def result(self) -> Any | None:
        self.thread.join()
        return self._km


def _warm_up(km: Any) -> None:
    """Import the heavy modules without touching the execution count (history not stored),
    so the notebook's cells are numbered from 1 as in any fresh kernel."""
    from jupyter_client.blocking import BlockingKernelClient

    kc = BlockingKernelClient(connection_file=km.connection_file)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=START_TIMEOUT)
        msg_id = kc.execute(WARM_UP, silent=False, store_history=False, allow_stdin=False)
        while True:
            reply = kc.get_shell_msg(timeout=START_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            content = reply["content"]
            raise RuntimeError(f"{content.get('ename')}: {content.get('evalue')}")
    finally:
        kc.stop_channels()


def _shutdown(km: Any) -> None:
    with contextlib.suppress(Exception):
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    with contextlib.suppress(Exception):
        km.cleanup_resources()


@contextlib.contextmanager
def prewarmed(
    count: int,
    env: Mapping[str, str | None],
    cwd: Path,
    kernel_name: str,
    extra_arguments: list[str],
) -> Iterator[KernelPool | None]:
    """A pool for a sequence of ``count`` runs (None when pre-warming is off), always
    closed on the way out."""
    if count <= 0 or not enabled():
        yield None
        return
    pool = KernelPool(count, env, cwd, kernel_name, extra_arguments)
    try:
        yield pool
    finally:
        pool.close()


@contextlib.contextmanager
def kernel_for_run(
    pool: KernelPool | None,
    env: Mapping[str, str | None],
    cwd: Path,
    kernel_name: str,
    extra_arguments: list[str],
) -> Iterator[Any | None]:
    """The kernel one run executes on: its sequence's pre-warmed one, or, with pre-warming
    off, one started now under the same bounded retries (papermill's own start is tried
    once). None when no start succeeded: papermill then starts its own and says why."""
    if pool is not None:
        import papermill  # noqa: F401  the run needs it: its import (~1 s) overlaps the start

        yield pool.take()
        return
    own = KernelPool(1, env, cwd, kernel_name, extra_arguments, ahead=False)
    try:
        yield own.take()
    finally:
        own.close()


def _register_engine() -> None:
    """A papermill engine that runs the notebook on a kernel it is given and shuts that
    kernel down after (papermill's own engine leaves a given kernel running)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class PrewarmedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: float = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                # killed, not asked to stop: every cell has answered by now, and a kernel
                # under the runner does nothing at exit (the runner settles and archives),
                # so the ~0.5 s a graceful shutdown takes is not paid by every run
                shutdown_kernel="immediate",
            )
            return PapermillNotebookClient(nb_man, **final_kwargs).execute(cleanup_kc=True)

    papermill_engines.register(ENGINE, PrewarmedEngine)


def engine_for(km: Any | None) -> dict[str, Any]:
    """``papermill.execute_notebook`` arguments that run on ``km`` when there is one."""
    if km is None:
        return {}
    from papermill.engines import papermill_engines

    if ENGINE not in papermill_engines._engines:
        _register_engine()
    return {"engine_name": ENGINE, "km": km}
