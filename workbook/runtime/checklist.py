"""Manual steps a migration cannot automate, made explicit, recorded, and gating the risk.

"Rotate the mobile app's key in the store console" cannot be done by code, but the run
must not go on until it is done. A checklist's ``.require()`` is a gate: put it in the
cell *before* the first destructive one, and nothing after it runs until every step is
done — ticked automatically where a check can prove it, confirmed by a person otherwise.

Every confirmation is written on the run's ledger row (``checklist``: step, how, by whom,
when), so it outlives the kernel:

- In JupyterLab the checkboxes are drawn even while steps are pending; ``.require()``
  then stops Run All (it raises) but keeps the run open and the lock held. A tick is
  recorded at once, so re-running the cell reads it back, passes the gate, and the run
  continues from there (Run → Run Selected Cell and All Below).
- In batch (``WORKBOOK_BATCH=1``: ``workbook up``, papermill) a pending step ends the run
  in the ledger state ``awaiting`` — not ``failed`` — before the cells after the gate run;
  the lock is released, the terminal names the step and the exact command that confirms
  it, and ``workbook up`` exits with ``AWAITING_EXIT_CODE``. The next run with
  ``-p confirmed=step`` resumes: steps confirmed by the runs that stopped ``awaiting``
  just before it are remembered from the ledger and need not be confirmed again.

Resuming re-runs the notebook from its first cell: a new kernel cannot pick up the
variables of one that ended, so the cells before a gate run again. That is why a gate
belongs before anything that is not safe to repeat — the connect cell and reads, or
steps that find their work already done (``wb`` operations report "already done") — and
why the gate, not the destructive cell, comes first. A dry run shows the gate in its plan
and never stops.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbook.errors import AWAITING_EXIT_CODE, WorkbookError
from workbook.settings import BATCH

if TYPE_CHECKING:
    from workbook.runtime.session import Workbook

_STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class Step:
    """One manual step; `check` returns True when the step can be seen to be done."""

    id: str
    text: str
    check: Callable[[], bool] | None = None
    done: bool = field(default=False, compare=False)
    how: str = field(default="", compare=False)
    check_result: str = field(default="", compare=False)
    # a person's confirmation as the ledger keeps it: {how, by, at, run}
    confirmation: dict[str, str] | None = field(default=None, compare=False)

    def run_check(self) -> bool:
        """Run the automatic check; an exception counts as "not done" and is shown."""
        if self.check is None:
            return False
        name = getattr(self.check, "__name__", "")
        label = "check" if name in ("", "<lambda>") else f"check {name}"
        try:
            passed = bool(self.check())
        except Exception as exc:  # a check is user code: any failure means "not proven"
            self.check_result = f"{label} raised {type(exc).__name__}: {exc}"
            return False
        self.check_result = f"{label} {'passed' if passed else 'did not pass'}"
        return passed


def parse_confirmed(confirmed: str | Iterable[str] | None) -> list[str]:
    """`"a, b"` or `["a", "b"]` → `["a", "b"]` (the papermill parameter is a string)."""
    if confirmed is None:
        return []
    items = confirmed.split(",") if isinstance(confirmed, str) else list(confirmed)
    return [item.strip() for item in items if item and item.strip()]


class ChecklistPending(WorkbookError):
    """A checklist gate with steps not done: nothing after it runs. The run is not failed:
    it is ``awaiting`` (batch) or stays open for ticks (JupyterLab)."""

    exit_code = AWAITING_EXIT_CODE
    keeps_run_open = True  # the kernel's failure hook leaves the run alone (runtime/magics)


def _connected_run() -> Workbook | None:
    """The connected migration's open run, whose ledger row keeps the confirmations."""
    from workbook.runtime import session

    wb = session._current
    if wb is None or wb.dry_run or wb.migration is None or wb.record is None or wb.finished:
        return None
    return wb


def _default_mode() -> str:
    if (BATCH.get() or "0") != "0":
        return "batch"
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return "batch"
    shell = get_ipython()
    return "interactive" if shell is not None and getattr(shell, "kernel", None) else "batch"


def _notebook_confirmed() -> Any:
    """The notebook's `confirmed` parameter (set by `workbook up -p confirmed=…`), if any."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    shell = get_ipython()
    return shell.user_ns.get("confirmed") if shell is not None else None


def _default_dry_run() -> bool:
    from workbook.runtime import session

    current = session._current
    return bool(current is not None and current.dry_run)


class Checklist:
    """Manual steps with optional automatic checks; `.require()` gates the rest of the run.

    `confirmed` defaults to the notebook's `confirmed` parameter, `dry_run` to the connected
    Workbook's, and `mode` to "batch" under `WORKBOOK_BATCH=1` (or outside a kernel).
    """

    def __init__(
        self,
        title: str,
        steps: Sequence[Step | tuple[Any, ...]],
        *,
        confirmed: str | Iterable[str] | None = None,
        dry_run: bool | None = None,
        mode: str | None = None,
    ) -> None:
        self.title = title
        self.steps: list[Step] = [
            Step(s.id, s.text, s.check) if isinstance(s, Step) else Step(*s) for s in steps
        ]
        self._validate()
        self.confirmed = parse_confirmed(_notebook_confirmed() if confirmed is None else confirmed)
        self.dry_run = _default_dry_run() if dry_run is None else dry_run
        self.mode = mode or _default_mode()
        if self.mode not in ("batch", "interactive"):
            raise WorkbookError(f"checklist mode must be 'batch' or 'interactive', not {mode!r}")
        self._widget: Any = None
        self._boxes: dict[str, Any] = {}
        self._status: Any = None
        self._displays: list[Any] = []
        self._shown_in: int | None = None  # the cell (execution count) require() drew it in
        known = {s.id for s in self.steps}
        self.unknown_confirmations = [c for c in self.confirmed if c not in known]
        self._run = None if self.dry_run else _connected_run()
        self._stopped = False  # require() stopped here; a re-run of the cell goes on
        self._remember()
        for step in self.steps:
            if step.id in self.confirmed and step.confirmation is None:
                self._mark(step, "confirmed by parameter")
        self._save()
        self.verify()

    def _validate(self) -> None:
        seen: set[str] = set()
        for step in self.steps:
            if not _STEP_ID.match(step.id):
                raise WorkbookError(
                    f"checklist step id {step.id!r} is not usable in -p confirmed=…",
                    "use letters, digits, '_', '-' or '.'",
                )
            if step.id in seen:
                raise WorkbookError(f"checklist step id {step.id!r} is used twice")
            seen.add(step.id)

    # ---------------------------------------------------------------- state

    def verify(self) -> bool:
        """Re-run every automatic check (the "Verify" button); True when all steps are done."""
        for step in self.steps:
            if step.check is None:
                continue
            if step.run_check():
                step.done, step.how = True, step.check_result
            elif step.how.startswith("check "):
                step.done, step.how = False, ""
        self._refresh()
        return self.complete

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def pending(self) -> list[Step]:
        return [step for step in self.steps if not step.done]

    def confirm(self, step_id: str, how: str = "ticked by hand") -> None:
        """Mark a step done by a person (what ticking its box does), in the ledger too."""
        self._mark(self._step(step_id), how)
        self._save()
        self._refresh()

    def unconfirm(self, step_id: str) -> None:
        step = self._step(step_id)
        step.done, step.how, step.confirmation = False, "", None
        self._save()
        self._refresh()

    def _mark(self, step: Step, how: str) -> None:
        run_id = self._run.run_id if self._run is not None else ""
        step.confirmation = {"how": how, "by": _who(), "at": _now(), "run": run_id}
        step.done, step.how = True, _how_confirmed(step.confirmation, run_id)

    # ---------------------------------------------------------------- the ledger

    def _remember(self) -> None:
        """Confirmations this run (a tick, then the cell re-run) or the runs that stopped
        ``awaiting`` before it recorded (runtime docstring above)."""
        if self._run is None:
            return
        wb = self._run
        assert wb.migration is not None
        known = {s.id: s for s in self.steps}
        found = wb.journal.remembered_confirmations(wb.run_id, wb.migration.version, wb.direction)
        for step_id, confirmation in found.items():
            step = known.get(step_id)
            if step is not None:
                step.confirmation = {k: str(v) for k, v in confirmation.items()}
                step.done, step.how = True, _how_confirmed(step.confirmation, wb.run_id)

    def _save(self) -> None:
        """Write this checklist's confirmations on the run's row, beside other checklists'."""
        if self._run is None:
            return
        from workbook.core.journal import confirmations_of

        wb = self._run
        record = wb.journal.ledger.get(wb.run_id)
        kept = confirmations_of(record) if record is not None else {}
        mine = {s.id for s in self.steps}
        kept = {k: v for k, v in kept.items() if k not in mine}
        kept.update({s.id: s.confirmation for s in self.steps if s.done and s.confirmation})
        if record is not None and kept == confirmations_of(record):
            return
        wb.journal.record_confirmations(wb.run_id, kept)

    def _step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise WorkbookError(f"checklist '{self.title}' has no step {step_id!r}")

    def confirmation_parameter(self) -> str:
        """The `-p confirmed=…` the next run needs: the pending steps when the ledger
        remembers the others, else every step no check has proven."""
        if self._run is not None:
            needed = [s.id for s in self.pending]
        else:
            needed = [s.id for s in self.steps if not (s.done and s.how.startswith("check "))]
        return "confirmed=" + ",".join(needed)

    def confirm_command(self) -> str:
        """The exact command that confirms the pending steps and resumes the run."""
        wb = self._run
        parameter = f"-p {self.confirmation_parameter()}"
        if wb is None:
            return f"workbook up {parameter}"
        env = wb.environment.name
        if wb.direction == "down":
            assert wb.migration is not None
            return f"workbook down --env {env} --migration {wb.migration.version} {parameter}"
        return f"workbook up --env {env} {parameter}"

    def require(self, *, enforce: bool = True) -> Checklist:
        """The gate: stop here unless every step is done. ``enforce=False`` shows the list
        without stopping (e.g. on an environment with nothing to wait for); a dry run shows
        the gate in its plan and never stops."""
        self._show()
        if self.dry_run:
            if enforce:
                self._plan_gate()
            return self
        if self.complete or not enforce:
            if self._run is not None:
                self._run.awaiting = None
            return self
        waits = "; ".join(f"{s.id} ({s.text})" for s in self.pending)
        extra = (
            f" (unknown ids confirmed: {', '.join(self.unknown_confirmations)})"
            if self.unknown_confirmations
            else ""
        )
        message = f"checklist '{self.title}' awaits: {waits}{extra}"
        self._stopped = True
        self._refresh()
        if self.mode == "batch":
            command = self.confirm_command()
            reason = f"{message}; confirm with `{command}`"
            if self._run is not None:  # `awaiting`, before the risky cells; lock released
                self._run.fail(reason, state=_awaiting_state())
            raise ChecklistPending(
                f"checklist '{self.title}': not done: {', '.join(s.id for s in self.pending)}"
                f"{extra}",
                f"do them, then run `{command}`",
            )
        if self._run is not None:  # the run stays open; if the kernel stops, it is awaiting
            command = self.confirm_command()
            self._run.awaiting = f"{message}; tick them in JupyterLab, or `{command}`"
        raise ChecklistPending(
            f"checklist '{self.title}': not done: {', '.join(s.id for s in self.pending)}{extra}",
            "do them and tick their boxes above (each tick is kept in the ledger), then run "
            "this cell again and those below it",
        )

    def _plan_gate(self) -> None:
        """A dry run's plan shows where the real run would wait, and for what."""
        from workbook.runtime import session

        wb = session._current
        if wb is None or not wb.dry_run:
            return
        pending = [s.id for s in self.pending]
        wb.plan.add(
            "checklist gate",
            self.title,
            {
                "waits_for": ", ".join(pending) or "nothing",
                "confirm": f"-p {self.confirmation_parameter()}" if pending else "",
            },
            effect="gate",
        )

    def _show(self) -> None:
        """Draw the checklist in the cell output — the checkboxes in JupyterLab even while
        steps are pending, the text record in batch — so the archive shows what was done."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover
            print(self.as_text())
            return
        if get_ipython() is None:
            print(self.as_text())
            return
        if self.mode == "interactive":
            self._shown_in = None
            self._ipython_display_()  # the widget, and the text the saved notebook keeps
        else:
            display({"text/plain": self.as_text(), "text/html": self.as_html()}, raw=True)
        self._shown_in = _execution_count()

    # ---------------------------------------------------------------- rendering

    def status_line(self) -> str:
        done = sum(step.done for step in self.steps)
        if self.complete:
            state = "all steps done" + (" · run this cell again to go on" if self._stopped else "")
        else:
            state = "waiting for: " + ", ".join(s.id for s in self.pending)
        prefix = "DRY RUN (not enforced) · " if self.dry_run else ""
        return f"{prefix}{done}/{len(self.steps)} done · {state}"

    def as_text(self) -> str:
        lines = [f"Checklist: {self.title}"]
        for step in self.steps:
            mark = "x" if step.done else " "
            how = _how(step)
            lines.append(f"  [{mark}] {step.id}: {step.text}" + (f"  ({how})" if how else ""))
        lines.append(self.status_line())
        return "\n".join(lines)

    def as_html(self) -> str:
        items = []
        for step in self.steps:
            mark = "☑" if step.done else "☐"
            how = _how(step)
            items.append(
                f"<li style='list-style:none'>{mark} <code>{html.escape(step.id)}</code> "
                f"{html.escape(step.text)}"
                + (f" <i>({html.escape(how)})</i>" if how else "")
                + "</li>"
            )
        return (
            f"<div class='workbook-checklist'><b>Checklist: {html.escape(self.title)}</b>"
            f"<ul>{''.join(items)}</ul><p>{html.escape(self.status_line())}</p></div>"
        )

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        if self.mode == "interactive":
            bundle.update(self.widget._repr_mimebundle_() or {})
        bundle.update({"text/plain": self.as_text(), "text/html": self.as_html()})
        return bundle

    def _ipython_display_(self) -> None:
        """Display with an id, so every tick also updates the text kept in the notebook."""
        from IPython.display import display

        if self._shown_in is not None and self._shown_in == _execution_count():
            return  # require() drew it in this cell: the value it returns is not drawn twice
        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)
        if handle is not None:
            self._displays.append(handle)

    # ---------------------------------------------------------------- widgets

    @property
    def widget(self) -> Any:
        """The ipywidgets view: one checkbox per step, a Verify button, a status line."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _build_widget(self) -> Any:
        import ipywidgets as widgets

        rows = []
        for step in self.steps:
            box = widgets.Checkbox(
                value=step.done,
                description=_label(step),
                indent=False,
                layout=widgets.Layout(width="auto"),
            )
            box.observe(self._ticked(step.id), names="value")
            self._boxes[step.id] = box
            rows.append(box)
        button = widgets.Button(description="Verify", icon="refresh")
        button.on_click(lambda _button: self.verify())
        self._status = widgets.HTML()
        title = widgets.HTML(f"<b>Checklist: {html.escape(self.title)}</b>")
        view = widgets.VBox([title, *rows, button, self._status])
        self._widget = view
        self._refresh()
        return view

    def _ticked(self, step_id: str) -> Callable[[dict[str, Any]], None]:
        def on_change(change: dict[str, Any]) -> None:
            step = self._step(step_id)
            if change["new"] and not step.done:
                self.confirm(step_id, "ticked")
            elif not change["new"] and step.done:
                self.unconfirm(step_id)

        return on_change

    def _refresh(self) -> None:
        for handle in getattr(self, "_displays", ()):
            handle.update(self._repr_mimebundle_(), raw=True)
        if self._widget is None:
            return
        for step in self.steps:
            box = self._boxes[step.id]
            proven = step.done and step.how.startswith("check ")
            if box.value != step.done:
                box.value = step.done
            box.disabled = proven
            box.description = _label(step)  # who ticked it and when, in sight
            box.tooltip = step.how or step.check_result or "not done yet"
        self._status.value = html.escape(self.status_line())


def _how(step: Step) -> str:
    """How a step was done, plus what its check said when that is not the same thing."""
    parts = [step.how] if step.done and step.how else []
    if step.check_result and step.check_result != step.how:
        parts.append(step.check_result)
    return "; ".join(parts)


def _label(step: Step) -> str:
    """A checkbox's label: the step, and how it was done once it is."""
    return f"{step.id}: {step.text}" + (f" — {step.how}" if step.done and step.how else "")


def _how_confirmed(confirmation: dict[str, str], run_id: str) -> str:
    """``ticked by ana at 2026-12-02 05:40:12 UTC`` (``, in run …`` when remembered)."""
    how = confirmation.get("how") or "confirmed"
    by, at = confirmation.get("by") or "", (confirmation.get("at") or "").replace("T", " ")[:19]
    when = f" at {at} UTC" if at else ""
    if how == "ticked":
        text = f"ticked by {by or '?'}{when}"
    else:
        text = how + (f" ({by}{when})" if by or when else "")
    run = confirmation.get("run")
    return text + (f", in run {run}" if run and run != run_id else "")


def _who() -> str:
    from workbook.runtime import session

    wb = session._current
    if wb is not None:
        return wb.operator
    from workbook.core.ledger import operator

    return operator()


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def _now() -> str:
    from workbook.core.ledger import now

    return now()


def _awaiting_state() -> Any:
    from workbook.core.ledger import RunState

    return RunState.AWAITING
