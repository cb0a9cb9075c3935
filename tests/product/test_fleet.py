"""Fleets on a real Dask LocalCluster, real kernels, a real local server as every tenant's
endpoint (one database per tenant)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from appwrite.services.tables_db import TablesDB
from sdk_support import sdk_client_for

from workbook.command import commands, fleet
from workbook.core.config import Workspace
from workbook.local.server import LocalServer, start_local_server

KEY_ENV = "FLEET_TEST_KEY"


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    srv = start_local_server(tmp_path / "fleet.db", schema_delay=0.01)
    monkeypatch.setenv(KEY_ENV, srv.api_key)  # workers inherit it: keys never travel in tasks
    try:
        yield srv
    finally:
        srv.stop()


def make_fleet(
    root: Path,
    server: LocalServer,
    tenants: int,
    migrations: int,
    *,
    canary: list[str] | None = None,
    key_envs: dict[str, str] | None = None,
) -> tuple[Workspace, list[str]]:
    root.mkdir()
    ids = [f"t{i:02d}" for i in range(1, tenants + 1)]
    tables = TablesDB(sdk_client_for(server))
    prefix = uuid.uuid4().hex[:6]
    lines = ["tenant,project,database,key_env"]
    for t in ids:
        database = f"db{prefix}{t}"
        tables.create(database, database)
        lines.append(f"{t},{server.project_id},{database},{(key_envs or {}).get(t, KEY_ENV)}")
    (root / "tenants.csv").write_text("\n".join(lines) + "\n")
    (root / "workbook.toml").write_text(
        f'[environments.tenant]\nendpoint = "{server.endpoint}"\nproject = "{server.project_id}"\n'
        f'key_env = "{KEY_ENV}"\n\n[fleets.saas]\ntemplate = "tenant"\ntenants = "tenants.csv"\n'
        f"per_endpoint = 4\ncanary = {canary or []!r}\n".replace("'", '"')
    )
    ws = Workspace(root)
    for i in range(migrations):
        commands.create(ws, f"step_{i}")
    return ws, ids


def archives(ws: Workspace, env: str) -> list[Path]:
    return sorted(ws.history_dir(env).glob("*.ipynb"))


def test_a_fleet_of_6_tenants_applies_3_migrations_on_3_workers(
    tmp_path: Path, endpoint: LocalServer
) -> None:
    # the 12 tenants cost a minute more of CI on 2 cores; 6 on 3 workers show the same
    ws, ids = make_fleet(tmp_path / "ws", endpoint, tenants=6, migrations=3)
    seen: list[str] = []
    report = fleet.up(ws, "saas", parallel=3, on_tenant=lambda t: seen.append(t.environment))
    assert report.ok, report.to_json()
    assert sorted(seen) == ids
    for t in report.tenants:
        assert [r["status"] for r in t.runs] == ["applied"] * 3
        names = [p.name for p in archives(ws, t.environment)]  # written back by the client
        assert len(names) == 3 and [n[16:19] for n in names] == ["001", "002", "003"]
        facts = nbformat.read(archives(ws, t.environment)[0], as_version=4).metadata["workbook"]
        assert facts["environment"] == t.environment and facts["status"] == "applied"
    matrix = fleet.status(ws, "saas")
    assert matrix["versions"] == ["001", "002", "003"]
    assert all(
        row["states"] == dict.fromkeys(matrix["versions"], "applied")
        for row in matrix["tenants"].values()
    )
    again = fleet.up(ws, "saas", parallel=3)  # nothing pending: converged
    assert again.ok and all(t.runs == [] for t in again.tenants)


def test_a_failing_canary_stops_the_rollout(tmp_path: Path, endpoint: LocalServer) -> None:
    ws, ids = make_fleet(
        tmp_path / "ws", endpoint, 3, 1, canary=["t01"], key_envs={"t01": "FLEET_UNSET_KEY"}
    )
    report = fleet.up(ws, "saas", parallel=2, continue_on_error=True)
    states = {t.environment: t.state for t in report.tenants}
    assert states == {"t01": "failed", "t02": "skipped", "t03": "skipped"}
    assert "FLEET_UNSET_KEY" in report.tenants[0].error


def test_an_unset_key_fails_only_its_tenant_with_continue_on_error(
    tmp_path: Path, endpoint: LocalServer
) -> None:
    ws, ids = make_fleet(tmp_path / "ws", endpoint, 4, 2, key_envs={"t02": "FLEET_UNSET_KEY"})
    report = fleet.up(ws, "saas", parallel=2, continue_on_error=True, to="001")
    states = {t.environment: t.state for t in report.tenants}
    assert states == {"t01": "ok", "t02": "failed", "t03": "ok", "t04": "ok"}
    (failed,) = report.failed
    assert "FLEET_UNSET_KEY" in failed.error
    assert [r["version"] for r in report.tenants[2].runs] == ["001"]  # --to 001
    assert len(archives(ws, "t03")) == 1


def test_a_killed_worker_leaves_its_tenant_failed_and_the_next_run_converges(
    tmp_path: Path, endpoint: LocalServer
) -> None:
    from workbook.core.integrity import write_sum

    ws, ids = make_fleet(tmp_path / "ws", endpoint, 2, 1)
    toml = ws.config_file.read_text().replace('key_env = "', 'lease_seconds = 2\nkey_env = "', 1)
    ws.config_file.write_text(toml)
    marker = tmp_path / "killed-once"
    (path,) = sorted(ws.migrations.glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    up_cell = next(c for c in nb.cells if "up" in c.metadata.get("tags", []))
    up_cell.source = (  # the kernel kills the worker process that started it, once
        "%%up\nimport os, pathlib\n"
        f"if environment == 't01' and not pathlib.Path({str(marker)!r}).exists():\n"
        f"    pathlib.Path({str(marker)!r}).touch()\n"
        "    os.kill(int(os.environ['JPY_PARENT_PID']), 9)\n"
        "wb.plan"
    )
    nbformat.write(nb, path)
    write_sum(ws.migrations)
    first = fleet.up(ws, "saas", parallel=2, continue_on_error=True)
    states = {t.environment: t.state for t in first.tenants}
    assert states == {"t01": "failed", "t02": "ok"}, first.to_json()
    assert "worker" in first.tenants[0].error
    time.sleep(3)  # the dead run's lease expires
    second = fleet.up(ws, "saas", parallel=2)
    assert second.ok, second.to_json()
    assert [r["status"] for r in second.tenants[0].runs] == ["applied"]
    matrix = fleet.status(ws, "saas")
    assert all(row["states"] == {"001": "applied"} for row in matrix["tenants"].values())
