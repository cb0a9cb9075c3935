"""The banner follows ``confirm = true`` (and ``color``/``label``), not the environment's
name, and a DRY RUN or a DOWN run cannot be mistaken for an up."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_inproc import assert_refused, new_workspace

from workbook.core.config import load_environments
from workbook.runtime import banner

TOML = """
[environments.live-eu]
endpoint = "https://eu.example.com/v1"
project = "p"
key_env = "LIVE_KEY"
confirm = true

[environments.qa]
endpoint = "https://qa.example.com/v1"
project = "p"
key_env = "QA_KEY"
color = "#6a1b9a"
label = "QA (shared)"
"""


@pytest.fixture
def envs(tmp_path: Path) -> dict:
    path = tmp_path / "workbook.toml"
    path.write_text(TOML)
    return load_environments(path)


def test_confirm_makes_the_banner_loud_whatever_the_name(envs: dict) -> None:
    live, qa, local = envs["live-eu"], envs["qa"], envs["local"]
    assert banner.colour(live) == banner.CONFIRM_COLOUR != banner.colour(local)
    assert banner.headline(live, "up", False) == "WORKBOOK · LIVE-EU · CONFIRM REQUIRED"
    assert "CONFIRM REQUIRED" in banner.html_banner(live, "up", False, "")
    assert banner.colour(qa) == "#6a1b9a" and "WORKBOOK · QA (SHARED)" in banner.html_banner(
        qa, "up", False, ""
    )


def test_dry_run_and_down_are_unmistakable(envs: dict) -> None:
    local = envs["local"]
    up = banner.html_banner(local, "up", False, "")
    dry = banner.html_banner(local, "up", True, "")
    down = banner.html_banner(local, "down", False, "")
    assert "DRY RUN" not in up and "DOWN" not in up
    assert "DRY RUN · nothing is written" in dry and "DOWN" not in dry
    assert "DOWN · rolling back" in down and "DRY RUN" not in down
    line = repr(banner.BannerLine(local, "down", True))
    assert line == "WORKBOOK · LOCAL · DOWN · rolling back · DRY RUN · nothing is written"


def test_a_colour_that_is_not_one_is_refused(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    ws.write("workbook.toml", '[environments.local]\ncolor = "red;background:url(x)"\n')
    assert_refused(ws.run("status"), "color 'red;background:url(x)' is not a colour")
