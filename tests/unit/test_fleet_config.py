"""Fleet bad input: refused by name (and line), before any target or cluster is reached."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace

from workbook.command import fleet
from workbook.core.config import Workspace
from workbook.errors import WorkbookError

FLEET = """
[environments.tenant]
endpoint = "http://127.0.0.1:9/v1"
project = "proj"
key_env = "TENANT_KEY"

[fleets.saas]
template = "tenant"
tenants = "{tenants}"
canary = ["acme"]

[fleets.regions]
environments = ["local"]
"""


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


def with_tenants(ws: CliWorkspace, name: str, text: str) -> None:
    ws.write(name, text)
    with (ws.root / "workbook.toml").open("a", encoding="utf-8") as f:
        f.write(FLEET.format(tenants=name))


def test_tenants_become_environments_and_the_canary_goes_first(ws: CliWorkspace) -> None:
    with_tenants(
        ws,
        "tenants.csv",
        "tenant,project,database,key_env\nacme,p1,db1,ACME_KEY\nbeta,p2,db2,BETA_KEY\n",
    )
    workspace = Workspace(ws.root)
    f = fleet.fleet_of(workspace, "saas")
    assert f.groups() == [("acme",), ("beta",)]
    beta = workspace.environment("beta")
    assert (beta.endpoint, beta.project, beta.database, beta.key_env) == (
        "http://127.0.0.1:9/v1",
        "p2",
        "db2",
        "BETA_KEY",
    )
    assert fleet.fleet_of(workspace, "regions").environments == ("local",)


def test_a_toml_tenants_file(ws: CliWorkspace) -> None:
    with_tenants(
        ws,
        "tenants.toml",
        '[[tenants]]\ntenant = "acme"\nproject = "p"\ndatabase = "d"\nkey_env = "K"\n',
    )
    assert fleet.fleet_of(Workspace(ws.root), "saas").environments == ("acme",)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("tenant,project,key_env\nacme,p,K\n", ("tenants.csv line 1", "database")),
        (
            "tenant,project,database,key_env\nacme,p,d,K\nacme,p,e,K\n",
            ("tenants.csv line 3", "acme", "line 2"),
        ),
        ("tenant,project,database,key_env\nacme,p,bad id!,K\n", ("line 2", "bad id!")),
        ("tenant,project,database,key_env\nacme,p,,K\n", ("line 2", "missing database")),
    ],
)
def test_a_bad_tenants_file_is_refused_naming_the_line(
    ws: CliWorkspace, text: str, needles: tuple[str, ...]
) -> None:
    with_tenants(ws, "tenants.csv", text)
    assert_refused(ws.run("status", "--fleet", "saas"), *needles)


def test_an_unknown_fleet_is_refused(ws: CliWorkspace) -> None:
    with_tenants(ws, "tenants.csv", "tenant,project,database,key_env\nacme,p,d,K\n")
    assert_refused(ws.run("up", "--fleet", "nope"), "unknown fleet 'nope'", "regions")
    assert_refused(ws.run("fleet", "up", "--fleet", "nope"), "unknown fleet 'nope'")  # alias


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("up", "--fleet", "saas", "--env", "acme"), "--env"),
        (("up", "--fleet", "saas", "--steps", "1"), "--steps"),
        (("up", "--fleet", "saas", "--no-backup"), "--no-backup"),
        (("status", "--fleet", "saas", "--env", "acme"), "--env"),
    ],
)
def test_fleet_with_an_option_that_picks_one_environment_is_refused(
    ws: CliWorkspace, args: tuple[str, ...], flag: str
) -> None:
    with_tenants(ws, "tenants.csv", "tenant,project,database,key_env\nacme,p,d,K\n")
    assert_refused(ws.run(*args), f"--fleet and {flag} cannot be used together", "drop")


def test_a_scheduler_that_does_not_answer_is_one_line_within_a_bound(
    ws: CliWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(fleet, "CONNECT_TIMEOUT", 2.0)
    clock = time.monotonic()
    with (
        pytest.raises(WorkbookError, match="did not answer within 2s"),
        fleet.dask_client(1, f"tcp://127.0.0.1:{port}"),
    ):
        pass
    assert time.monotonic() - clock < 15


def test_a_fleet_of_environments_marked_confirm_needs_yes(ws: CliWorkspace) -> None:
    with_tenants(ws, "tenants.csv", "tenant,project,database,key_env\nacme,p,d,K\n")
    toml = ws.root / "workbook.toml"
    toml.write_text(
        toml.read_text().replace('key_env = "TENANT_KEY"', 'key_env = "TENANT_KEY"\nconfirm = true')
    )
    assert_refused(
        ws.run("up", "--fleet", "saas"),
        "fleet 'saas' has environments marked confirm (acme)",
        "--yes",
    )
