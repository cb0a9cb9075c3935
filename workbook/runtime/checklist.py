"""Manual steps a migration cannot automate, made explicit and recorded.

"Rotate the mobile app's key in the store console" cannot be done by code, but the run
must not go on until it is done. In JupyterLab a checklist is a set of checkboxes, ticked
automatically where a check can prove the step; a kernel cell cannot block waiting for
clicks, so `.require()` raises until every box is ticked, and the operator re-runs it.
In batch (`WORKBOOK_BATCH=1`) the checks run and manual steps must be confirmed up front
with `workbook up -p confirmed=step1,step2`. Either way the notebook output keeps a text
record of which step was done, and how.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbook.errors import WorkbookError
from workbook.settings import BATCH

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

    def run_check(self) -> bool:
        """Run the automatic check; an exception counts as "not done" and is shown."""
        if self.check is None:
            return False
        name = getattr(self.check, "__name__", "check")
        try:
            passed = bool(self.check())
        except Exception as exc:  # a check is user code: any failure means "not proven"
            self.check_result = f"check {name} raised {type(exc).__name__}: {exc}"
            return False
        self.check_result = f"check {name} {'passed' if passed else 'did not pass'}"
        return passed


def parse_confirmed(confirmed: str | Iterable[str] | None) -> list[str]:
    """`"a, b"` or `["a", "b"]` → `["a", "b"]` (the papermill parameter is a string)."""
    if confirmed is None:
        return []
    items = confirmed.split(",") if isinstance(confirmed, str) else list(confirmed)
    return [item.strip() for item in items if item and item.strip()]


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
        known = {s.id for s in self.steps}
        self.unknown_confirmations = [c for c in self.confirmed if c not in known]
        for step in self.steps:
            if step.id in self.confirmed:
                step.done, step.how = True, "confirmed by parameter"
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
        """Mark a step done by a person (what ticking its box does)."""
        step = self._step(step_id)
        step.done, step.how = True, how
        self._refresh()

    def unconfirm(self, step_id: str) -> None:
        step = self._step(step_id)
        step.done, step.how = False, ""
        self._refresh()

    def _step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise WorkbookError(f"checklist '{self.title}' has no step {step_id!r}")

    def confirmation_parameter(self) -> str:
        """The `-p confirmed=…` that would confirm every step no check has proven."""
        needed = [s.id for s in self.steps if not (s.done and s.how.startswith("check "))]
        return "confirmed=" + ",".join(needed)

    def require(self) -> Checklist:
        """Stop the run unless every step is done; a dry run only shows the list."""
        self._show_record()
        if self.dry_run or self.complete:
            return self
        missing = ", ".join(s.id for s in self.pending)
        extra = (
            f" (unknown ids confirmed: {', '.join(self.unknown_confirmations)})"
            if self.unknown_confirmations
            else ""
        )
        if self.mode == "batch":
            hint = f"do them, then pass -p {self.confirmation_parameter()}"
        else:
            hint = "do them, tick their boxes (or press Verify), then run this cell again"
        raise WorkbookError(f"checklist '{self.title}': not done: {missing}{extra}", hint)

    def _show_record(self) -> None:
        """Put the text record in the cell output, so the archive shows what was done."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover
            print(self.as_text())
            return
        if get_ipython() is not None:
            display({"text/plain": self.as_text(), "text/html": self.as_html()}, raw=True)
        else:
            print(self.as_text())

    # ---------------------------------------------------------------- rendering

    def status_line(self) -> str:
        done = sum(step.done for step in self.steps)
        if self.complete:
            state = "all steps done"
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
                description=f"{step.id}: {step.text}",
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
                self.confirm(step_id, f"ticked by {_who()}")
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
            box.tooltip = step.how or step.check_result or "not done yet"
        self._status.value = html.escape(self.status_line())


def _how(step: Step) -> str:
    """How a step was done, plus what its check said when that is not the same thing."""
    parts = [step.how] if step.done and step.how else []
    if step.check_result and step.check_result != step.how:
        parts.append(step.check_result)
    return "; ".join(parts)


def _who() -> str:
    from workbook.core.ledger import operator

    return operator()
