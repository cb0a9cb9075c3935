"""Targets chosen before anything runs: ``up --to``/``--steps``, ``down --to``/``--steps``
newest first, stopping before an irreversible migration; refusals of mixed targets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cli_inproc import assert_refused, new_workspace

from workbook.command.targets import irreversible, select_down, select_up
from workbook.core.catalog import load_catalog
from workbook.core.ledger import VersionState
from workbook.errors import WorkbookError

REPO = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(REPO / "migrations")


def _states(**given: str) -> dict[str, VersionState]:
    return {str(int(v[1:])): VersionState(v[1:], s, None, None) for v, s in given.items()}


def test_up_to_and_steps_choose_from_the_pending_ones() -> None:
    assert [m.version for m in select_up(CATALOG, CATALOG, "002", None)] == ["001", "002"]
    assert [m.version for m in select_up(CATALOG, CATALOG[1:], None, 1)] == ["002"]
    assert select_up(CATALOG, CATALOG, "0", None) == []


def test_down_to_rolls_back_everything_after_it_newest_first() -> None:
    states = _states(v001="applied", v002="applied", v003="failed")
    todo, blocked = select_down(CATALOG, states, "local", "001", None)
    assert [m.version for m in todo] == ["003", "002"] and blocked is None
    todo, _ = select_down(CATALOG, states, "local", None, 2)
    assert [m.version for m in todo] == ["003", "002"]
    todo, _ = select_down(CATALOG, states, "local", "000", None)
    assert [m.version for m in todo] == ["003", "002", "001"]
    with pytest.raises(WorkbookError, match="nothing is applied on 'local' after 003"):
        select_down(CATALOG, states, "local", "003", None)


def test_down_to_stops_before_the_first_irreversible_migration() -> None:
    one_way = [*CATALOG[:2], dataclasses.replace(CATALOG[2], directions=("up",))]
    states = _states(v001="applied", v002="applied", v003="applied")
    todo, blocked = select_down(one_way, states, "local", "001", None)
    assert todo == [] and blocked is not None and blocked.version == "003"
    one_way = [CATALOG[0], dataclasses.replace(CATALOG[1], directions=("up",)), CATALOG[2]]
    todo, blocked = select_down(one_way, states, "local", "000", None)
    assert [m.version for m in todo] == ["003"] and blocked and blocked.version == "002"
    message = irreversible(blocked, todo).message
    assert "stopped at migration 002: it is irreversible" in message
    assert "003 rolled back; 002 and older are still applied" in message


def test_two_ways_of_naming_the_target_are_refused(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path)
    assert_refused(
        ws.run("down", "--to", "001", "--steps", "1"), "--to and --steps name the migrations"
    )
    assert_refused(ws.run("up", "--migration", "002", "--to", "003"), "--migration and --to")
    assert_refused(ws.run("down", "--steps", "0"), "--steps 0 is not a number")
