"""The package layers import downwards only, and no module imports itself round a circle (README, Architecture)."""

from __future__ import annotations

import ast
from pathlib import Path

from base.paths import ROOT

# Bottom to top; a module may import its own layer and the ones below it.
LAYERS = [
    {"base"},
    {"providers"},
    {"loaders"},
    {"vectorstore"},
    {"chains"},
    {"services"},
    {"app_pages", "cli", "streamlit_app", "api"},
    {"finetune", "eval", "bench"},
]
RANK = {package: n for n, layer in enumerate(LAYERS) for package in layer}
FRONT_ENDS = {"app_pages", "cli", "streamlit_app", "api"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module -> first-party modules it imports (anywhere in the file, lazy imports included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        top = path.relative_to(ROOT).parts[0]
        if top.removesuffix(".py") not in RANK:
            continue
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            targets |= {n for n in names if n.split(".")[0] in RANK}
        graph[_module(path)] = targets
    return {m: {t for t in ts if t in graph} for m, ts in graph.items()}


def test_every_import_points_down_a_layer() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        for target in targets
        if RANK[target.split(".")[0]] > RANK[module.split(".")[0]]
    ]
    assert upward == []


def test_front_ends_use_services_and_base_only() -> None:
    reach = [
        f"{module} -> {target}"
        for module, targets in _imports().items()
        if module.split(".")[0] in FRONT_ENDS
        for target in targets
        if target.split(".")[0] not in FRONT_ENDS | {"services", "base"}
    ]
    assert reach == []


def test_no_import_cycles() -> None:
    graph = _imports()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append([*trail[trail.index(target) :], target] if target in trail else [module, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_walk_sees_the_project() -> None:
    graph = _imports()
    assert {"services.assistant", "vectorstore.store", "base.settings", "cli"} <= graph.keys()
    assert "base.settings" in graph["services.knowledge"]
