"""The architecture as the tree shows it, enforced: each arrow between layers points one way.

``runtime`` (inside the kernel) and ``command`` (the CLI process) never import each other;
``core`` imports neither; ``local`` (the embedded server) imports nothing from Workbook.
Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "workbook"
LAYERS = ("core", "command", "runtime", "local")
FORBIDDEN = {
    "core": {"command", "runtime"},
    "runtime": {"command"},
    "command": {"runtime"},
    "local": {"core", "command", "runtime", "top"},
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "workbook":
        return "foreign"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "top"


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [
                (node.lineno, f"{node.module}.{a.name}")
                for a in node.names
                if node.module == "workbook"
            ]
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def violations() -> list[str]:
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = layer_of(module_name(path))
        for line, target in imports(path):
            kind = layer_of(target)
            if kind != "foreign" and kind in FORBIDDEN.get(source, set()):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {source} → {target}")
    return bad


def test_no_forbidden_arrow() -> None:
    assert violations() == []


def test_every_layer_exists_and_is_used() -> None:
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("core", "workbook.command.runner"),
        ("runtime", "workbook.command.cli"),
        ("local", "workbook.errors"),
    ],
)
def test_the_rule_catches_a_bad_arrow(source: str, target: str) -> None:
    assert layer_of(target) in FORBIDDEN[source]
