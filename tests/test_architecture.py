"""The house rules of uig_core, checked on its source: rooms by concept, one owner of the build folder, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from uig_core.build import layout

CORE = Path(__file__).resolve().parents[1] / "uig_core"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module → the uig_core modules it imports anywhere (top level, inside functions, under TYPE_CHECKING)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    deps.add(target if target in modules else base)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_cycle_finder_sees_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_among_core_modules():
    graph = import_graph()
    assert len(graph) > 50 and "uig_core.build.pipeline" in graph
    assert "uig_core.build.layout" in graph["uig_core.build.bundle"]  # the graph sees real imports
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_core_is_grouped_into_subpackages():
    packages = [p.parent for p in CORE.glob("*/__init__.py")]
    assert len(packages) >= 5, packages
    for pkg in packages:
        tree = ast.parse((pkg / "__init__.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{pkg.name}/__init__.py says nothing about what it holds"
    flat = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert len(flat) <= 10, f"too many modules left flat in uig_core/: {flat}"


def test_no_grab_bag_module_names():
    bad = [p for p in CORE.rglob("*.py") if p.stem.endswith("_more") or p.stem in {"misc", "utils", "helpers"}]
    assert not bad, bad


@pytest.mark.parametrize(
    "filename",
    [*layout.FRAMES.values(), "arrays.npz", "interactions.npz", "strongest.npz", "meta.json", "quality.json"],
)
def test_build_file_names_live_only_in_the_layout_module(filename):
    owners = [p.relative_to(CORE) for p in CORE.rglob("*.py") if filename in p.read_text(encoding="utf-8")]
    allowed = [] if filename == "quality.json" else [Path("build/layout.py")]
    assert owners == allowed, f"{filename} is named in {owners}; ask uig_core.build.layout instead"


def test_no_function_over_80_lines():
    long = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 80:
                long.append(f"{path.relative_to(CORE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long, long


def test_core_never_imports_streamlit_and_defines_progress_once():
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "from streamlit" not in text, name
        if name != "uig_core.progress":
            assert "Progress = Callable" not in text, f"{name} defines its own Progress alias"
