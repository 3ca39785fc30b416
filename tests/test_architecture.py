"""The tree reads as the architecture: no import cycles (TYPE_CHECKING and lazy imports
included), services never reach into the gateway's machinery or the composition root, and the
domain never sees the wire."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emulator"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    """Every emulator module and the emulator modules it imports, anywhere in the file."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py") if "fixtures" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_even_under_type_checking() -> None:
    assert _cycle(_graph()) is None


FORBIDDEN = [
    # (importer prefix, imported prefix): why
    ("emulator.services.", "emulator.gateway.pipeline"),  # handlers never call the gateway
    ("emulator.services.", "emulator.wiring"),  # a service sees its context, not the emulator
    ("emulator.services.", "emulator.app"),
    ("emulator.services.dms.domain", "emulator.services.dms.api"),  # wire names stop at api/
    ("emulator.services.dms.domain", "emulator.gateway"),
    ("emulator.core", "emulator.services"),
    ("emulator.core", "emulator.gateway"),
    ("emulator.state", "emulator.services"),
]


@pytest.mark.parametrize("importer, imported", FORBIDDEN)
def test_layers_only_import_downwards(importer: str, imported: str) -> None:
    bad = sorted(
        f"{mod} -> {dep}"
        for mod, deps in _graph().items()
        if mod.startswith(importer)
        for dep in deps
        if dep.startswith(imported)
    )
    assert bad == []
