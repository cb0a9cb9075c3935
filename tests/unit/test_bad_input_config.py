"""A workbook.toml of the wrong shape, or with a typo, is refused by name before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_inproc import CliWorkspace, assert_refused, new_workspace, snapshot

from workbook.core.config import REMOTE_KEYS, Environment, Workspace

STAGING = 'endpoint = "https://x.example/v1"\nproject = "p"\nkey_env = "STAGING_KEY"\n'


@pytest.fixture
def ws(tmp_path: Path) -> CliWorkspace:
    return new_workspace(tmp_path, folders=("migrations",))


def refused_with_toml(ws: CliWorkspace, toml: str, *needles: str) -> None:
    ws.write("workbook.toml", toml)
    before = snapshot(ws.root)
    assert_refused(ws.run("status"), *needles, unchanged=(ws.root, before))


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ("environments = 5\n", ("environments is a number", "[environments.NAME]")),
        ("environments = []\n", ("environments is an array",)),
        ('environments = [{endpoint = "x"}]\n', ("environments is an array",)),
        ('environments = "staging"\n', ("environments is a string",)),
        ("[environments]\nstaging = 5\n", ("environments.staging is a number, not a table",)),
        ('[environments]\nstaging = ["x"]\n', ("environments.staging is an array",)),
    ],
)
def test_wrong_shape(ws: CliWorkspace, toml: str, needles: tuple[str, ...]) -> None:
    refused_with_toml(ws, toml, *needles)


def test_a_typo_is_named_with_the_key_it_probably_meant(ws: CliWorkspace) -> None:
    refused_with_toml(
        ws,
        f'[environments.staging]\n{STAGING}databse = "other"\n',
        "[environments.staging]: unknown key 'databse'",
        "did you mean 'database'?",
        "allowed: endpoint, project, database, key_env, self_signed, confirm, http_timeout",
    )


def test_an_unrelated_key_lists_the_allowed_ones(ws: CliWorkspace) -> None:
    refused_with_toml(
        ws,
        f"[environments.staging]\n{STAGING}colour = 3\n",
        "unknown key 'colour'",
        "allowed: endpoint",
    )


def test_a_typo_under_local_too(ws: CliWorkspace) -> None:
    refused_with_toml(
        ws,
        '[environments.local]\ndatabse = "other"\n',
        "[environments.local]: unknown key 'databse'",
        "did you mean 'database'?",
        "allowed: database, confirm, http_timeout",
    )


@pytest.mark.parametrize("key", ["endpoint", "project", "key_env", "self_signed"])
def test_local_takes_no_server_keys(ws: CliWorkspace, key: str) -> None:
    refused_with_toml(
        ws,
        f'[environments.local]\n{key} = "x"\n',
        f"unknown key '{key}' (local is the embedded server)",
        "add another environment",
    )


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("project = 5", "project = 5 is a number, not a string"),
        ("database = true", "database = True is a boolean, not a string"),
        ("key_env = ['K']", "key_env = ['K'] is an array, not a string"),
        ("endpoint = 8080", "endpoint = 8080 is a number, not a string"),
        ("confirm = 'yes'", "confirm = 'yes' is a string, not a boolean"),
        ("self_signed = 1", "self_signed = 1 is a number, not a boolean"),
        ("key_env = 'MY KEY'", "key_env 'MY KEY' is not a variable name"),
    ],
)
def test_values_of_the_wrong_type(ws: CliWorkspace, line: str, needle: str) -> None:
    key = line.split(" ", 1)[0]
    body = "".join(x + "\n" for x in STAGING.splitlines() if not x.startswith(key))
    refused_with_toml(ws, f"[environments.staging]\n{body}{line}\n", needle)


def test_local_confirm_is_a_boolean(ws: CliWorkspace) -> None:
    refused_with_toml(
        ws, "[environments.local]\nconfirm = 1\n", "confirm = 1 is a number, not a boolean"
    )


def test_every_allowed_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "workbook.toml").write_text(
        "[environments.staging]\n" + STAGING + 'database = "db2"\nself_signed = true\n'
        "confirm = true\nhttp_timeout = 5\ncell_timeout = 6\nlease_seconds = 7\n"
        '[environments.local]\ndatabase = "scratch"\nconfirm = true\nhttp_timeout = 9\n'
    )
    envs = Workspace(tmp_path).environments()
    staging, local = envs["staging"], envs["local"]
    assert (staging.database, staging.self_signed, staging.confirm) == ("db2", True, True)
    assert (staging.http_timeout, staging.cell_timeout, staging.lease_seconds) == (5, 6, 7)
    assert (local.database, local.confirm, local.http_timeout, local.is_local) == (
        "scratch",
        True,
        9,
        True,
    )
    assert set(REMOTE_KEYS) <= {f.name for f in Environment.__dataclass_fields__.values()}
    assert "extra" not in Environment.__dataclass_fields__


def test_other_top_level_tables_are_left_to_their_readers(tmp_path: Path) -> None:
    (tmp_path / "workbook.toml").write_text("[fleets.eu]\nenvironments = ['a']\n")
    assert list(Workspace(tmp_path).environments()) == ["local"]
