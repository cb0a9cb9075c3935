"""How loud a notebook's banner is: it follows the environment's ``confirm = true`` (and its
``color``/``label`` in workbook.toml), not its name, and says DRY RUN and DOWN so that
neither can be mistaken for an ``up``."""

from __future__ import annotations

import html

from workbook.core.config import Environment

CONFIRM_COLOUR = "#b3261e"  # an environment that needs confirmation: production-like
NAMED_COLOURS = {"staging": "#b26a00", "local": "#1e6b35"}
DEFAULT_COLOUR = "#3b4a6b"
DRY_RUN = "DRY RUN · nothing is written"
DOWN = "DOWN · rolling back"


def colour(env: Environment) -> str:
    if env.color:
        return env.color
    return CONFIRM_COLOUR if env.confirm else NAMED_COLOURS.get(env.name, DEFAULT_COLOUR)


def marks(direction: str, dry_run: bool) -> list[str]:
    """What makes this run unlike a plain ``up``, loudest first."""
    return [m for m, on in ((DOWN, direction == "down"), (DRY_RUN, dry_run)) if on]


def headline(env: Environment, direction: str, dry_run: bool) -> str:
    """``WORKBOOK · PRODUCTION · CONFIRMED ENVIRONMENT · DOWN · rolling back``: one line, also
    repeated at each ``%%up``/``%%down`` cell so it stays in sight while scrolling."""
    parts = ["WORKBOOK", (env.label or env.name).upper()]
    if env.confirm:
        parts.append("CONFIRM REQUIRED")
    return " · ".join(parts + marks(direction, dry_run))


def html_banner(env: Environment, direction: str, dry_run: bool, rows: str) -> str:
    """The connect cell's banner: a coloured bar, the environment's label, and for a dry run
    or a rollback a second, unmistakable badge."""
    c = html.escape(colour(env))
    name = html.escape((env.label or env.name).upper())
    weight = "border-left:14px" if env.confirm else "border-left:8px"
    badges = "".join(
        f"<span class='wb-mark' style='display:inline-block;margin-left:.6em;padding:1px 8px;"
        f"border:2px dashed {'#6a1b9a' if m == DRY_RUN else '#e65100'};"
        f"color:{'#6a1b9a' if m == DRY_RUN else '#e65100'};font-weight:bold'>"
        f"{html.escape(m)}</span>"
        for m in marks(direction, dry_run)
    )
    confirm = (
        "<span style='margin-left:.6em;font-weight:bold'>· CONFIRM REQUIRED</span>"
        if env.confirm
        else ""
    )
    return (
        f"<div class='wb-banner' style='{weight} solid {c};padding:6px 12px;"
        f"background:{c}14'><b style='color:{c}'>WORKBOOK · {name}</b>{confirm}{badges}"
        f"<table>{rows}</table></div>"
    )


def compact_html(env: Environment, direction: str, dry_run: bool) -> str:
    c = html.escape(colour(env))
    return (
        f"<div class='wb-banner-line' style='border-left:6px solid {c};padding:0 8px;"
        f"color:{c};font-size:85%'>{html.escape(headline(env, direction, dry_run))}</div>"
    )


class BannerLine:
    """The compact banner a ``%%up``/``%%down`` cell shows above its own output."""

    def __init__(self, env: Environment, direction: str, dry_run: bool) -> None:
        self.env, self.direction, self.dry_run = env, direction, dry_run

    def __repr__(self) -> str:
        return headline(self.env, self.direction, self.dry_run)

    def _repr_html_(self) -> str:
        return compact_html(self.env, self.direction, self.dry_run)
