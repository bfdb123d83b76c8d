"""Imports go one way: the pure layers below never reach up to what uses them.

Read from the source (every `import`, also inside functions and under TYPE_CHECKING, since a
lazy import only hides a cycle) and checked again in fresh interpreters (what importing a
package really loads).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "monitor", ROOT / "dashboard"]

# What each part must never import (a prefix names a package and everything in it).
NEVER: dict[str, set[str]] = {
    "monitor.target": {"monitor"},  # a leaf: no other brownout module
    "monitor.result": {"monitor.config", "monitor.store", "monitor.providers"},
    "monitor.providers": {"monitor.config", "monitor.store", "monitor.probe", "monitor.pipeline"},
    "monitor.canaries": {"monitor.config", "monitor.providers", "monitor.store"},
    "monitor.config": {
        "monitor.store",
        "monitor.detect",
        "monitor.probe",
        "monitor.runner",
        "monitor.pipeline",
        "monitor.alerts",
        "monitor.api",
    },
    "monitor.detect": {
        "monitor.store",
        "monitor.pipeline",
        "monitor.alerts",
        "monitor.api",
        "monitor.read",
        "monitor.reports",
    },
    "monitor.statuspages": {"monitor.store", "monitor.pipeline", "monitor.config"},
    "monitor.store": {
        "monitor.pipeline",
        "monitor.runner",
        "monitor.probe",
        "monitor.alerts",
        "monitor.api",
        "monitor.read",
        "monitor.reports",
        "monitor.route",
        "monitor.commands",
        "monitor.telemetry",
        "dashboard",
    },
    "monitor.read": {
        "monitor.pipeline",
        "monitor.api",
        "monitor.route",
        "monitor.telemetry",
        "dashboard",
    },
    "monitor.route": {"monitor.api", "monitor.pipeline", "dashboard"},
    "monitor.simulator": {"monitor.store", "monitor.config", "monitor.providers"},
    # The OpenTelemetry export reads through the store and the read model, like the API.
    "monitor.telemetry": {
        "monitor.pipeline",
        "monitor.runner",
        "monitor.api",
        "monitor.commands",
        "monitor.route",
        "dashboard",
    },
}
# The pipeline is glue at the top: only the entry points start it.
PIPELINE_USERS = ("monitor.pipeline", "monitor.runner", "monitor.commands", "monitor.demo")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@cache
def import_graph() -> dict[str, set[str]]:
    """Every brownout module and the brownout modules it imports."""
    files = {_module_name(p): p for source in SOURCES for p in source.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in files and m != name}
        for name, path in files.items()
    }


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _part(module: str) -> str:
    """The package (or top-level module) a module belongs to: `monitor.store.db` → `monitor.store`."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_the_walk_sees_imports() -> None:
    graph = import_graph()
    assert "monitor.target" in graph
    assert "monitor.providers" in graph["monitor.config.schema"]


@pytest.mark.parametrize("part", sorted(NEVER))
def test_a_lower_layer_never_imports_what_sits_above_it(part: str) -> None:
    broken = sorted(
        f"{module} imports {imported}"
        for module, imported_set in import_graph().items()
        if _within(module, part)
        for imported in imported_set
        if any(_within(imported, f) for f in NEVER[part]) and not _within(imported, part)
    )
    assert broken == []


def test_only_the_entry_points_import_the_pipeline() -> None:
    broken = sorted(
        f"{module} imports {imported}"
        for module, imported_set in import_graph().items()
        if not any(_within(module, user) for user in PIPELINE_USERS)
        for imported in imported_set
        if _within(imported, "monitor.pipeline")
    )
    assert broken == []


def test_the_packages_import_each_other_without_a_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for module, imported_set in import_graph().items():
        for imported in imported_set:
            if _part(imported) != _part(module):
                edges.setdefault(_part(module), set()).add(_part(imported))
    cycles = [c for c in _strongly_connected(edges) if len(c) > 1]
    assert cycles == []


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteration-free enough for a few dozen packages."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


# In a fresh interpreter: importing every module of the part leaves the forbidden ones unloaded.
FRESH = [
    ("monitor.target", "monitor.config"),
    ("monitor.providers", "monitor.config"),
    ("monitor.canaries", "monitor.config"),
    ("monitor.detect", "monitor.store"),
    ("monitor.statuspages", "monitor.store"),
    ("monitor.store", "monitor.pipeline"),
]


@pytest.mark.parametrize(("part", "absent"), FRESH)
def test_importing_a_layer_loads_nothing_above_it(part: str, absent: str) -> None:
    modules = sorted(m for m in import_graph() if _within(m, part))
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m == {absent!r} or m.startswith({absent!r} + '.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


# Heavy libraries that only some configurations use: importing what `brownout run` runs on
# leaves them unloaded (numpy ~17 MB of RSS, apprise ~17 MB, jsonschema ~9 MB: a monitor
# without drift canaries, JSON-Schema checks or alert channels never pays for them).
RUN_PATH = [
    "monitor.commands.run",
    "monitor.runner",
    "monitor.probe",
    "monitor.pipeline.leader",
    "monitor.pipeline.services",
    "monitor.pipeline.writer",
]


@pytest.mark.parametrize("heavy", ["numpy", "apprise", "jsonschema"])
def test_the_run_path_loads_heavy_libraries_only_when_used(heavy: str) -> None:
    script = (
        "import importlib, sys\n"
        f"for m in {RUN_PATH!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m == {heavy!r} or m.startswith({heavy!r} + '.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
