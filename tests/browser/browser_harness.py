"""A real JupyterLab server and a real headless Chromium, for the operator's experience.

The server runs as its own process on an ephemeral loopback port, with every Jupyter
folder (runtime, settings, workspaces) inside the test's tmp_path so parallel tests never
share state; its kernels inherit ``WORKBOOK_WORKSPACE`` and ``WORKBOOK_USER`` the way an
operator's would. The page helpers drive JupyterLab through its own menus and read what
it rendered from the DOM, never from the notebook file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OPERATOR = "browser-test"
# Tall enough that every cell of a migration is on screen: screenshots show the whole
# notebook and JupyterLab's content-visibility windowing renders every cell.
VIEWPORT = {"width": 1400, "height": 4200}
_START_TIMEOUT = 60.0
_RUN_TIMEOUT_MS = 90_000
_QUIET_SETTINGS = {  # no toast asking to fetch news from the internet (the network is closed)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def make_workspace(root: Path) -> Path:
    """A throwaway copy of the repo's workspace: migrations, notebooks, workbook.toml."""
    root.mkdir(parents=True)
    for name in ("migrations", "notebooks"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "workbook.toml", root / "workbook.toml")
    return root


def workbook_env(workspace: Path) -> dict[str, str]:
    """The process environment of an operator working in ``workspace``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    env.update(
        {
            "WORKBOOK_USER": OPERATOR,
            "WORKBOOK_WORKSPACE": str(workspace),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",
        }
    )
    return env


def cli(
    workspace: Path, *args: str, timeout: float = 180, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`workbook …` as the operator types it in a terminal next to JupyterLab
    (``extra_env``: e.g. the API key variable a remote environment names)."""
    return subprocess.run(
        [sys.executable, "-m", "workbook", *args],
        cwd=workspace,
        env=workbook_env(workspace) | (extra_env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli_background(workspace: Path, *args: str) -> subprocess.Popen[str]:
    """`workbook …` started now and awaited later (``.communicate()``), to overlap startups."""
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", *args],
        cwd=workspace,
        env=workbook_env(workspace),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Lab:
    """A running JupyterLab: where it listens and how to reach a notebook in it."""

    base: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    def notebook_url(self, relpath: str) -> str:
        return f"{self.base}/lab/tree/{relpath}?token={self.token}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@contextmanager
def jupyterlab(
    workspace: Path, state: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Lab]:
    """JupyterLab serving ``workspace``, stopped (kernels and all) when the block ends;
    ``extra_env`` reaches its kernels (e.g. the API key of a remote environment)."""
    state.mkdir(parents=True, exist_ok=True)
    runtime = state / "runtime"
    for rel, values in _QUIET_SETTINGS.items():
        path = state / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    token = secrets.token_hex(16)
    env = (
        workbook_env(workspace)
        | (extra_env or {})
        | {
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "JUPYTER_CONFIG_DIR": str(state / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        }
    )
    log = state / "jupyterlab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                "--ServerApp.port=0",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={workspace}",
                "--ServerApp.open_browser=False",
                "--LabApp.expose_app_in_browser=True",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            cwd=workspace,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab: Lab | None = None
    try:
        lab = Lab(_wait_until_serving(process, runtime, token, log), token, process, log)
        yield lab
    finally:
        _stop(process, lab)


def _wait_until_serving(
    process: subprocess.Popen[bytes], runtime: Path, token: str, log: Path
) -> str:
    """The server's base URL once ``/api/status`` answers; the port is in its runtime file."""
    deadline = time.monotonic() + _START_TIMEOUT
    base = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        if not base:
            info = _runtime_info(runtime, process.pid)
            base = f"http://127.0.0.1:{info['port']}" if info else ""
        if base:
            try:
                reply = httpx.get(f"{base}/api/status", params={"token": token}, timeout=2)
                if reply.status_code == 200:
                    return base
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise RuntimeError(
        f"jupyter lab did not answer within {_START_TIMEOUT:.0f}s:\n"
        f"{log.read_text(errors='replace')[-3000:]}"
    )


def _runtime_info(runtime: Path, pid: int) -> dict[str, Any] | None:
    path = runtime / f"jpserver-{pid}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _stop(process: subprocess.Popen[bytes], lab: Lab | None) -> None:
    """Ask the server to shut down (it stops its kernels); kill its session if it will not."""
    if process.poll() is None and lab is not None:
        with suppress(httpx.TransportError):
            httpx.post(f"{lab.base}/api/shutdown", params={"token": lab.token}, timeout=5)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# ------------------------------------------------------------------------------ the page


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A page in Debian's Chromium, headless, with a fresh profile; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(_RUN_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


# The toolbar's execution indicator says "idle" before any kernel exists, and a Run All
# clicked then does nothing; the kernel connection (window.jupyterapp, exposed by the
# server flag) is the real readiness signal.
_KERNEL_READY_JS = """() => {
  const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
  return Boolean(kernel) && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}"""


def open_notebook(page: Any, lab: Lab, relpath: str) -> None:
    """Open a notebook as the operator does and wait until its kernel is connected and idle."""
    page.goto(lab.notebook_url(relpath))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
    page.wait_for_function(_KERNEL_READY_JS, polling=100)


def run_all(page: Any) -> None:
    """Run menu → Run All Cells (which runs `notebook:run-all-cells`), clicked like a person."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


_FINISHED_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt')?.textContent || '').trim());
  if (prompts.some(p => p.includes('*'))) return false;
  const failed = document.querySelector(
    ".jp-NotebookPanel .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']");
  return Boolean(failed) || prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


def wait_until_finished(page: Any) -> None:
    """Every code cell has an execution count (or one failed and the run stopped)."""
    page.wait_for_function(_FINISHED_JS, timeout=_RUN_TIMEOUT_MS, polling=200)
    page.wait_for_function(_KERNEL_READY_JS, polling=100)


def errors(page: Any) -> list[str]:
    """Tracebacks the page shows (a raised cell renders its error as stderr output)."""
    outputs = page.locator(
        ".jp-NotebookPanel .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    return [text for text in outputs.all_text_contents() if "Error" in text or "Traceback" in text]


@dataclass
class RenderedCell:
    """One code cell as JupyterLab shows it: its source, prompt and output texts."""

    source: str
    prompt: str
    outputs: list[str]
    html_outputs: list[str]


def cells(page: Any) -> list[RenderedCell]:
    """Every code cell of the open notebook, read from the DOM, in order."""
    data = page.evaluate("""() => [...document.querySelectorAll(
        '.jp-NotebookPanel .jp-Notebook .jp-CodeCell')].map(c => ({
      source: [...c.querySelectorAll('.jp-InputArea-editor .cm-line')]
                .map(l => l.textContent).join('\\n'),
      prompt: (c.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
      outputs: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent),
      html_outputs: [...c.querySelectorAll(".jp-OutputArea-output[data-mime-type='text/html']")]
                .map(o => o.innerHTML),
    }))""")
    return [RenderedCell(**item) for item in data]


def code_sources(notebook: Path) -> list[str]:
    """The code cells' sources of a notebook file, for matching against the page."""
    nb = json.loads(notebook.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
