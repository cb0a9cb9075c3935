"""Dry runs: a `Plan` of what a run would do, and a proxy that keeps SDK writes from leaving.

A migration notebook may call the raw SDK (`wb.tables.update_rows(...)`) as well as
`ops`. In a dry run both must write nothing, yet reads must still reach the target so
the plan reflects the live schema. `DryRunProxy` wraps an SDK service: reads pass
through, every other method becomes a `PlanStep`, and the raw client's `call` is
guarded the same way (only GET leaves the process).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd

from workbook.runtime.intercept import KEEP, SEND, InterceptedClient
from workbook.secrets import is_secret_name

CHANGE = "change"
NO_OP = "no-op"

_READ_PREFIXES = ("get", "list")
_ID_ARGS = ("table_id", "key", "row_id", "column", "transaction_id", "migration_id")
_MAX_LIST_ITEMS = 10
_MAX_TEXT = 200


@dataclass(frozen=True)
class PlanStep:
    """One operation a run would perform (`effect="change"`) or found already done."""

    operation: str
    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    effect: str = CHANGE

    def to_record(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "target": self.target,
            "effect": self.effect,
            "detail": json_safe(self.detail),
        }


class Plan:
    """The ordered steps of a run.

    `len(plan)` is the number of changes a run would make (0: nothing to do); iteration,
    frames and records also include the "already done" notes a dry run adds.
    """

    def __init__(self, steps: list[PlanStep] | None = None) -> None:
        self.steps: list[PlanStep] = list(steps or [])

    def add(
        self,
        operation: str,
        target: str,
        detail: dict[str, Any] | None = None,
        *,
        effect: str = CHANGE,
    ) -> PlanStep:
        step = PlanStep(operation, target, json_safe(detail or {}), effect)
        self.steps.append(step)
        return step

    @property
    def changes(self) -> list[PlanStep]:
        return [step for step in self.steps if step.effect == CHANGE]

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[PlanStep]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> PlanStep:
        return self.steps[index]

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-safe form, small enough to keep in notebook metadata."""
        return [step.to_record() for step in self.steps]

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {
                "operation": step.operation,
                "target": step.target,
                "effect": step.effect,
                "detail": _detail_text(step.detail),
            }
            for step in self.steps
        ]
        return pd.DataFrame(rows, columns=["operation", "target", "effect", "detail"])

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Plan</b>: {len(self.changes)} change(s), "
            f"{len(self.steps) - len(self.changes)} already done</p>"
        )
        if not self.steps:
            return "<p><b>Plan</b>: nothing to do</p>"
        return head + self.to_frame().to_html(index=False, escape=True)

    def __repr__(self) -> str:
        if not self.steps:
            return "Plan: nothing to do"
        lines = [f"Plan: {len(self)} change(s), {len(self.steps) - len(self)} already done"]
        for number, step in enumerate(self.steps, 1):
            lines.append(
                f"{number:>3}. [{step.effect}] {step.operation} {step.target} "
                f"{_detail_text(step.detail)}".rstrip()
            )
        return "\n".join(lines)


def _detail_text(detail: dict[str, Any]) -> str:
    return json.dumps(detail, separators=(", ", ": "), default=str) if detail else ""


def json_safe(value: Any, name: str = "") -> Any:
    """Turn SDK arguments into small JSON values; secrets by name become '***'."""
    if name and is_secret_name(name):
        return "***"
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if isinstance(value, dict):
        return {str(k): json_safe(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in list(value)[:_MAX_LIST_ITEMS]]
        if len(value) > _MAX_LIST_ITEMS:
            items.append(f"… {len(value) - _MAX_LIST_ITEMS} more")
        return items
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return json_safe(to_dict())
    return json_safe(repr(value))


def is_read_method(name: str) -> bool:
    """SDK naming: `get*`/`list*` read; everything else may write."""
    return name.startswith(_READ_PREFIXES)


class DryRunClient(InterceptedClient):
    """The SDK client with writes turned into plan steps: only GET requests are sent."""

    def __init__(self, client: Any, plan: Plan) -> None:
        super().__init__(client)
        self._plan = plan

    def before_call(self, verb: str, path: str, params: dict[str, Any]) -> bool:
        if verb == "GET":
            return SEND
        self._plan.add(f"call {verb}", path, params)
        return KEEP

    def chunked_upload(
        self, path: str, headers: Any = None, params: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        self._plan.add("upload", path, {k: v for k, v in (params or {}).items()})
        return None


class DryRunProxy:
    """An SDK service whose writes are recorded in `plan` and never sent."""

    def __init__(self, service: Any, plan: Plan) -> None:
        self._service = service
        self.plan = plan
        self.client = DryRunClient(service.client, plan)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._service, name)
        if name.startswith("_") or not callable(attr) or is_read_method(name):
            return attr
        return self._recorder(name, attr)

    def _recorder(self, name: str, method: Any) -> Any:
        try:
            signature = inspect.signature(method)
        except (TypeError, ValueError):
            signature = None

        def record(*args: Any, **kwargs: Any) -> None:
            arguments: dict[str, Any]
            if signature is not None:
                try:
                    bound = signature.bind_partial(*args, **kwargs)
                    arguments = dict(bound.arguments)
                except TypeError:
                    arguments = {"args": list(args), **kwargs}
            else:
                arguments = {"args": list(args), **kwargs}
            database_id = arguments.pop("database_id", None)
            arguments.pop("model_type", None)
            ids = [str(arguments.pop(key)) for key in _ID_ARGS if arguments.get(key) is not None]
            if not ids and database_id is not None:
                ids = [str(database_id)]
            detail = {k: v for k, v in arguments.items() if v is not None}
            self.plan.add(name, ".".join(ids), detail)
            return None

        record.__name__ = name
        record.__doc__ = f"Dry run: records `{name}` in the plan instead of sending it."
        return record

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._service)) | {"plan", "client"})

    def __repr__(self) -> str:
        return f"DryRunProxy({type(self._service).__name__}, {len(self.plan)} step(s))"
