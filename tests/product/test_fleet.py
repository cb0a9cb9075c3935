"""Fleets on a real Dask LocalCluster, real kernels, a real local server as every tenant's
endpoint (one database per tenant).

One server and one 3-worker LocalCluster serve the whole module (the in-process runs pass
its address as ``--scheduler``), and the scenarios are folded into few rollouts, each
migration a trivial notebook run on pre-warmed kernels: CI has two cores. The Ctrl-C test
runs ``workbook up --fleet`` as its own process, with its own LocalCluster, as a user does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from appwrite.services.tables_db import TablesDB
from cli_inproc import CliWorkspace
from sdk_support import sdk_client_for

from workbook.command import commands, fleet
from workbook.command.report import write_index
from workbook.core.config import Workspace
from workbook.core.integrity import write_sum
from workbook.core.ledger import Ledger
from workbook.local.server import LocalServer, start_local_server

KEY_ENV = "FLEET_TEST_KEY"
UNSET_KEY = "FLEET_UNSET_KEY"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    srv = start_local_server(tmp_path_factory.mktemp("fleet") / "fleet.db", schema_delay=0.01)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, srv.api_key)  # workers inherit it: keys never travel in tasks
        mp.delenv(UNSET_KEY, raising=False)
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="module")
def scheduler(server: LocalServer) -> Iterator[str]:
    """A LocalCluster of 3 processes, one thread each, as `--parallel 3` starts."""
    with fleet.local_cluster(3) as cluster:
        yield cluster.scheduler_address


def make_fleet(
    root: Path,
    server: LocalServer,
    tenants: list[str],
    migrations: int,
    *,
    key_envs: dict[str, str] | None = None,
    extra: str = "",
) -> Workspace:
    """A workspace whose fleet `saas` is one database per tenant, and `migrations` trivial
    migrations."""
    root.mkdir()
    tables = TablesDB(sdk_client_for(server))
    prefix = uuid.uuid4().hex[:6]
    lines = ["tenant,project,database,key_env"]
    for t in tenants:
        tables.create(f"db{prefix}{t}", t)
        lines.append(f"{t},{server.project_id},db{prefix}{t},{(key_envs or {}).get(t, KEY_ENV)}")
    (root / "tenants.csv").write_text("\n".join(lines) + "\n")
    (root / "workbook.toml").write_text(
        f'[environments.tenant]\nendpoint = "{server.endpoint}"\nproject = "{server.project_id}"\n'
        f'key_env = "{KEY_ENV}"\n\n[fleets.saas]\ntemplate = "tenant"\ntenants = "tenants.csv"\n'
        f"per_endpoint = 4\n{extra}"
    )
    ws = Workspace(root)
    for i in range(migrations):
        commands.create(ws, f"step_{i}")
    return ws


def ledger_of(ws: Workspace, server: LocalServer, env: str) -> Ledger:
    return Ledger(TablesDB(sdk_client_for(server)), ws.environment(env).database, env)


def archives(ws: Workspace, env: str) -> list[Path]:
    return sorted(ws.history_dir(env).glob("*.ipynb"))


def cli(ws: Workspace, *args: str) -> Any:
    return CliWorkspace(ws.root, env={"WORKBOOK_USER": "test-operator", "COLUMNS": "200"}).run(
        *args
    )


def test_a_canary_stops_the_rollout_then_12_tenants_apply_3_migrations_and_one_fails(
    tmp_path: Path, server: LocalServer, scheduler: str
) -> None:
    good = [f"t{i:02d}" for i in range(1, 13)]
    ws = make_fleet(
        tmp_path / "ws",
        server,
        ["bad", *good],
        3,
        key_envs={"bad": UNSET_KEY},
        extra='\n[fleets.careful]\nenvironments = ["bad", "t01", "t02"]\ncanary = ["bad"]\n',
    )
    # a failing canary stops the rollout, even with --continue-on-error: nothing else ran
    canaried = cli(ws, "up", "--fleet", "careful", "--scheduler", scheduler, "--continue-on-error")
    assert canaried.code == 1, canaried.output
    assert "0 applied, 1 failed, 0 awaiting, 0 stopped, 2 skipped" in canaried.stdout
    assert all(not ledger_of(ws, server, t).exists() for t in ("t01", "t02"))

    # the 12 good tenants apply 3 migrations on 3 workers; the one with an unset key
    # variable fails alone, and the summary (terminal and HTML page) names it
    result = cli(ws, "up", "--fleet", "saas", "--scheduler", scheduler, "--continue-on-error")
    assert result.code == 1, result.output
    assert "12 applied, 1 failed, 0 awaiting, 0 stopped, 0 skipped; 36 runs" in result.stdout
    assert "failed: bad:" in result.stderr and UNSET_KEY in result.stderr
    assert "ok       t07 3/3" in result.stdout  # plain progress lines: no terminal here
    for t in good:
        names = [p.name for p in archives(ws, t)]  # written back by the client
        assert [n[16:19] for n in names] == ["001", "002", "003"], names
        facts = nbformat.read(archives(ws, t)[-1], as_version=4).metadata["workbook"]
        assert (facts["environment"], facts["status"]) == (t, "applied")
        ledger = ledger_of(ws, server, t)
        assert ledger.lock_row() is None
        runs = sorted(ledger.runs(), key=lambda r: r.version)
        assert [(r.version, r.state.value, r.environment) for r in runs] == [
            (v, "applied", t) for v in ("001", "002", "003")
        ]
    assert not ledger_of(ws, server, "bad").exists()
    (page,) = (ws.history / "_fleets").glob("*-saas.html")
    text = page.read_text()
    assert "12 applied, 1 failed" in text and UNSET_KEY in text
    assert f"href='../t12/{archives(ws, 't12')[0].name}'" in text

    matrix = json.loads(cli(ws, "status", "--fleet", "saas", "--json").stdout)
    assert matrix["versions"] == ["001", "002", "003"]
    assert all(
        matrix["tenants"][t]["states"] == dict.fromkeys(("001", "002", "003"), "applied")
        for t in good
    )
    assert UNSET_KEY in matrix["tenants"]["bad"]["error"]
    index = write_index(ws.history, [])  # the site's index links every rollout's page
    assert f"_fleets/{page.name}" in index.read_text()


def test_a_killed_worker_leaves_its_tenant_failed_and_the_next_run_converges(
    tmp_path: Path, server: LocalServer, scheduler: str
) -> None:
    ws = make_fleet(tmp_path / "ws", server, ["k1", "k2"], 1)
    toml = ws.config_file.read_text().replace('key_env = "', 'lease_seconds = 2\nkey_env = "', 1)
    ws.config_file.write_text(toml)
    marker = tmp_path / "killed-once"
    (path,) = sorted(ws.migrations.glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if "up" in c.metadata.get("tags", []))
    up_cell.source = (  # the kernel kills the worker process that started it, once
        "%%up\nimport os, pathlib\n"
        f"if environment == 'k1' and not pathlib.Path({str(marker)!r}).exists():\n"
        f"    pathlib.Path({str(marker)!r}).touch()\n"
        "    os.kill(int(os.environ['JPY_PARENT_PID']), 9)\n"
        "wb.plan"
    )
    nbformat.write(nb, path)
    write_sum(ws.migrations)
    first = fleet.up(ws, "saas", scheduler=scheduler, continue_on_error=True)
    states = {t.environment: t.state for t in first.tenants}
    assert states == {"k1": "failed", "k2": "ok"}, first.to_json()
    assert "worker" in (first.tenants[0].error or "")
    time.sleep(3)  # the dead run's lease expires
    second = fleet.up(ws, "saas", scheduler=scheduler)
    assert second.ok, second.to_json()
    assert [r["status"] for r in second.tenants[0].runs] == ["applied"]
    matrix = fleet.status(ws, "saas")
    assert all(row["states"] == {"001": "applied"} for row in matrix["tenants"].values())


def test_ctrl_c_stops_cleanly_and_leaves_no_tenant_locked(
    tmp_path: Path, server: LocalServer
) -> None:
    tenants = ["c1", "c2", "c3", "c4"]
    ws = make_fleet(tmp_path / "ws", server, tenants, 2)
    started = tmp_path / "started"
    started.mkdir()
    for path in sorted(ws.migrations.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        up_cell = next(c for c in nb.cells if "up" in c.metadata.get("tags", []))
        up_cell.source = (  # long enough to be interrupted in the middle of
            "%%up\nimport pathlib, time\n"
            f"pathlib.Path({str(started)!r}, environment).touch()\ntime.sleep(3)\nwb.plan"
        )
        nbformat.write(nb, path)
    write_sum(ws.migrations)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbook", "up", "--fleet", "saas", "--parallel", "2"],
        cwd=ws.root,
        env={**env, "WORKBOOK_USER": "test-operator"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as at a terminal: a test run in the background would hand its ignored SIGINT on
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not any(started.iterdir()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert any(started.iterdir()), "no tenant started within 120 s"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted:" in stderr and "Traceback" not in stderr
    seen: dict[str, list[tuple[str, str]]] = {}
    for t in tenants:
        ledger = ledger_of(ws, server, t)
        if not ledger.exists():
            seen[t] = []
            continue
        assert ledger.lock_row() is None, t
        seen[t] = sorted((r.version, r.state.value) for r in ledger.runs())
        assert all(state in ("applied", "failed") for _, state in seen[t]), seen
    # the running tenants finished the migration they were in and stopped there; the
    # tenants not started were not started
    assert any(rows == [("001", "applied")] for rows in seen.values()), seen
    assert any(rows == [] for rows in seen.values()), seen
    assert "stopped" in stdout and "skipped" in stdout
