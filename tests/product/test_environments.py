"""Environments resolve by one precedence, and keys only ever come from variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook.core.config import Workspace
from workbook.errors import ConfigError
from workbook.secrets import Secret


def workspace(tmp_path: Path, toml: str) -> Workspace:
    (tmp_path / "workbook.toml").write_text(toml)
    return Workspace(tmp_path)


def test_local_is_built_in(tmp_path: Path) -> None:
    env = Workspace(tmp_path).environment(None)
    assert env.name == "local" and env.is_local and env.database == "main"


def test_unknown_environment_lists_known_ones(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '[environments.staging]\nendpoint="https://x/v1"\nproject="p"\nkey_env="STAGING_KEY"\n',
    )
    with pytest.raises(ConfigError, match="unknown environment 'prod'") as info:
        ws.environment("prod")
    assert "local, staging" in str(info.value)


def test_missing_key_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGING_KEY", raising=False)
    ws = workspace(
        tmp_path,
        '[environments.staging]\nendpoint="https://x/v1"\nproject="p"\nkey_env="STAGING_KEY"\n',
    )
    with pytest.raises(ConfigError, match=r"\$STAGING_KEY, which is not set"):
        ws.environment("staging").key()


def test_key_in_file_is_refused(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        '[environments.staging]\nendpoint="https://x/v1"\n'
        'project="p"\nkey_env="K"\nkey="standard_abc"\n',
    )
    with pytest.raises(ConfigError, match="holds an API key in the file"):
        ws.environments()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('endpoint="https://x/v1"\nproject="p"\n', "missing key_env"),
        ('endpoint="ftp://x"\nproject="p"\nkey_env="K"\n', "not an http"),
        ('endpoint="https://x/v1"\nproject="_p"\nkey_env="K"\n', "not a valid Appwrite id"),
    ],
)
def test_bad_environment_tables(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        workspace(tmp_path, f"[environments.staging]\n{body}").environments()


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        workspace(tmp_path, "[environments\n").environments()


def test_secret_never_prints() -> None:
    secret = Secret("standard_0123456789abcdef")
    assert "0123" not in repr(secret) and "0123" not in str(secret) and "0123" not in f"{secret}"
    assert secret.reveal() == "standard_0123456789abcdef"


def test_redact_hides_secret_like_variables_and_named_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbook.secrets import redact

    monkeypatch.setenv("PROD_APPWRITE_KEY", "standard_" + "f" * 40)
    monkeypatch.setenv("PROD_API", "p" * 30)
    monkeypatch.setenv("HOME_DIR", "/home/someone/x")
    text = f"a {'standard_' + 'f' * 40} b {'p' * 30} c /home/someone/x"
    assert redact(text) == f"a [redacted] b {'p' * 30} c /home/someone/x"
    assert redact(text, ("PROD_API",)) == "a [redacted] b [redacted] c /home/someone/x"
