"""Checklists in batch (papermill) and interactive (widget) modes, and in dry runs."""

from __future__ import annotations

import pytest

from workbook.errors import WorkbookError
from workbook.runtime.checklist import Checklist, Step, parse_confirmed


def _steps(key_rotated: bool = False) -> list[Step]:
    def api_key_rotated() -> bool:
        return key_rotated

    def broken() -> bool:
        raise RuntimeError("store console unreachable")

    return [
        Step("store", "Update the mobile app's API key in the store console"),
        Step("rotate", "Rotate the staging key", api_key_rotated),
        Step("notify", "Tell support", broken),
    ]


def test_parse_confirmed() -> None:
    assert parse_confirmed(" store, notify ,,") == ["store", "notify"]
    assert parse_confirmed(["a"]) == ["a"]
    assert parse_confirmed(None) == [] and parse_confirmed("") == []


def test_batch_require_lists_unconfirmed_and_the_exact_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    checklist = Checklist(
        "Key rotation", _steps(key_rotated=True), confirmed="store", dry_run=False
    )
    assert checklist.mode == "batch"
    with pytest.raises(WorkbookError) as info:
        checklist.require()
    message = str(info.value)
    assert "\n" not in message
    assert "not done: notify" in message
    assert "-p confirmed=store,notify" in message


def test_batch_all_confirmed_passes_and_records_how(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    checklist = Checklist(
        "Key rotation", _steps(key_rotated=True), confirmed="store,notify", dry_run=False
    )
    assert checklist.require() is checklist
    record = capsys.readouterr().out
    assert "[x] store" in record and "confirmed by parameter" in record
    assert "check api_key_rotated passed" in record
    assert "3/3 done" in record


def test_batch_failed_check_needs_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    checklist = Checklist(
        "Key rotation", _steps(key_rotated=False), confirmed="store,notify", dry_run=False
    )
    with pytest.raises(WorkbookError, match="not done: rotate.*confirmed=store,rotate,notify"):
        checklist.require()
    assert "check api_key_rotated did not pass" in checklist.as_text()
    assert "raised RuntimeError: store console unreachable" in checklist.as_text()


def test_unknown_confirmations_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBOOK_BATCH", "1")
    checklist = Checklist("K", _steps(True), confirmed="stroe,notify", dry_run=False)
    with pytest.raises(WorkbookError, match="unknown ids confirmed: stroe"):
        checklist.require()


def test_dry_run_shows_and_never_raises(capsys: pytest.CaptureFixture[str]) -> None:
    checklist = Checklist("Key rotation", _steps(), dry_run=True, mode="batch")
    assert checklist.require() is checklist
    assert "DRY RUN (not enforced)" in capsys.readouterr().out


def test_step_ids_must_be_usable_as_parameters() -> None:
    with pytest.raises(WorkbookError, match="not usable"):
        Checklist("K", [Step("has space", "x")], dry_run=False, mode="batch")
    with pytest.raises(WorkbookError, match="used twice"):
        Checklist("K", [Step("a", "x"), Step("a", "y")], dry_run=False, mode="batch")


def test_widget_state_follows_checks_ticks_and_verify() -> None:
    state = {"rotated": False}
    steps = [
        Step("store", "Update the store console"),
        Step("rotate", "Rotate the key", lambda: state["rotated"]),
    ]
    checklist = Checklist("Key rotation", steps, dry_run=False, mode="interactive")
    view = checklist.widget
    title, store, rotate, button, status = view.children
    assert "Key rotation" in title.value
    assert (store.value, store.disabled, rotate.value, rotate.disabled) == (
        False,
        False,
        False,
        False,
    )
    assert "0/2 done" in status.value
    with pytest.raises(WorkbookError, match="tick their boxes"):
        checklist.require()

    store.value = True  # the operator ticks the manual step
    assert checklist.steps[0].done and checklist.steps[0].how.startswith("ticked by ")
    state["rotated"] = True
    button.click()  # "Verify" re-runs the checks
    assert (rotate.value, rotate.disabled) == (True, True)
    assert "all steps done" in status.value
    assert checklist.require() is checklist

    store.value = False  # unticking undoes it
    assert not checklist.complete and "waiting for: store" in status.value


def test_mimebundle_has_widget_and_text_fallbacks() -> None:
    checklist = Checklist("K", [Step("a", "Do A")], dry_run=False, mode="interactive")
    bundle = checklist._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Checklist: K")
    assert "Do A" in bundle["text/html"]
    batch = Checklist("K", [Step("a", "Do A")], dry_run=False, mode="batch")
    assert set(batch._repr_mimebundle_()) == {"text/plain", "text/html"}
