"""The confirmation an environment marked ``confirm = true`` needs, inside a kernel.

``workbook up`` asks the operator to type the environment's name before it changes it;
a run stepped through in JupyterLab must ask the same. A kernel cell cannot block waiting
for a click (its shell channel is busy while the cell runs), so, like a checklist's
``.require()``, :func:`require_confirmation` shows a box and a Confirm button and raises
until the name has been typed and confirmed; the operator then runs the cell again. A
confirmation allows one run: it is used up when :func:`require_confirmation` returns.
In batch kernels the runner's CLI asked already, so it returns at once; where nobody can
click (plain papermill, a script) it refuses and points to ``workbook up --yes``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from workbook.errors import WorkbookError
from workbook.runtime.frontend import is_batch, started_by_jupyter_server

_granted: set[str] = set()  # keys confirmed in this kernel and not yet used by a run


def require_confirmation(environment_name: str, key: str, what: str = "") -> None:
    """Stop unless the operator typed ``environment_name`` and pressed Confirm for ``key``.

    ``key`` names the run being allowed (e.g. ``"prod:001:up"``), so a confirmation given
    for one migration or direction never lets another through; ``what`` says what the run
    would change, shown next to the box.
    """
    if is_batch() or key in _granted:
        _granted.discard(key)
        return
    message = f"environment '{environment_name}' needs confirmation before it is changed"
    if not started_by_jupyter_server():  # plain papermill, a script: nobody can click
        verb = "down" if key.endswith(":down") else "up"  # the CLI command of this run
        hint = f"run it with `workbook {verb} --env {environment_name} --yes`"
        raise WorkbookError(message, hint)
    _show(ConfirmationBox(environment_name, key, what))
    raise WorkbookError(
        message, "type its name in the box above and press Confirm, then run this cell again"
    )


def granted(key: str) -> bool:
    """Whether a confirmation for ``key`` is waiting to be used by the next run."""
    return key in _granted


class ConfirmationBox:
    """The widget: what will change, a text box for the name, a Confirm button, a status."""

    def __init__(self, environment_name: str, key: str, what: str = "") -> None:
        self.environment_name = environment_name
        self.key = key
        self.what = what
        self.widget = self._build()

    def prompt(self) -> str:
        change = f" {self.what}" if self.what else ""
        return (
            f"This run changes environment '{self.environment_name}'{change}. It is marked "
            "confirm = true in workbook.toml: type its name and press Confirm, then run the "
            "cell again. Nothing has been written yet."
        )

    def _build(self) -> Any:
        import ipywidgets as widgets

        self.text = widgets.Text(
            placeholder=self.environment_name,
            description="Environment name:",
            style={"description_width": "initial"},
        )
        self.button = widgets.Button(description="Confirm", button_style="danger", icon="check")
        self.status = widgets.HTML()
        self.button.on_click(self._on_confirm())
        self.text.on_submit(lambda _text: self.confirm(self.text.value))
        heading = widgets.HTML(f"<b>{html.escape(self.prompt())}</b>")
        return widgets.VBox(
            [heading, widgets.HBox([self.text, self.button]), self.status],
            layout=widgets.Layout(border="2px solid #b3261e", padding="6px"),
        )

    def _on_confirm(self) -> Callable[[Any], None]:
        def on_click(_button: Any) -> None:
            self.confirm(self.text.value)

        return on_click

    def confirm(self, typed: str) -> bool:
        """What pressing Confirm does: grant the key when the exact name was typed."""
        if typed.strip() != self.environment_name:
            self.status.value = html.escape(
                f"'{typed.strip()}' is not '{self.environment_name}': nothing confirmed"
            )
            return False
        _granted.add(self.key)
        self.text.disabled = self.button.disabled = True
        self.status.value = html.escape(
            f"Confirmed: '{self.environment_name}' may be changed by the next run of this "
            "cell. Run it again (or Run All)."
        )
        return True

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["text/plain"] = self.prompt()
        return bundle


def _show(box: ConfirmationBox) -> None:
    from IPython.display import display

    display(box)
