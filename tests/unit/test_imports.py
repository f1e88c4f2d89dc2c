"""The import graph: the HTTP client loads no core runtime, and no hybridmem module
imports itself back through another."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hybridmem

PACKAGE_DIR = Path(hybridmem.__file__).parent


def test_client_imports_neither_coordinator_nor_server() -> None:
    # A fresh interpreter: this one has long since imported the store.
    probe = (
        "import sys, hybridmem.client\n"
        "loaded = ['hybridmem.coordinator', 'hybridmem.journal', 'hybridmem.scope_locks',"
        " 'hybridmem.store', 'hybridmem.server', 'sqlite3']\n"
        "print(','.join(name for name in loaded if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    """The module ``from .x import y`` names, read from the importing module's package."""
    if node.level == 0:
        return node.module
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: 1 - node.level]
    return ".".join([*parts, node.module] if node.module else parts)


def _imports(tree: ast.AST, modules: set[str], package: str = "hybridmem") -> set[str]:
    """The hybridmem modules a module imports, at any depth (lazy imports in
    functions count: they close a cycle just the same), except under TYPE_CHECKING.
    Relative imports count too, read from ``package``, the importer's package."""
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (module := _absolute(node, package)):
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in modules else module)
        pending.extend(ast.iter_child_nodes(node))
    return found & modules


def _import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    modules = set(paths)
    return {
        name: _imports(ast.parse(path.read_text(encoding="utf-8")), modules, _package(name, path))
        - {name}
        for name, path in paths.items()
    }


def _package(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            found = visit(target, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_import_cycle_between_hybridmem_modules() -> None:
    graph = _import_graph()
    # The walk sees top-level and lazy imports alike.
    assert "hybridmem.coordinator" in graph["hybridmem.store"]
    assert "hybridmem.demo" in graph["hybridmem.cli.maintenance"]
    # Packages: an __init__ that imports its submodules is a module like any other.
    assert "hybridmem.cli.memory" in graph["hybridmem.cli"]
    assert "hybridmem.server.routes.memories" in graph["hybridmem.server.app"]
    assert _cycle(graph) is None


def test_the_walk_reads_relative_imports() -> None:
    modules = {"hybridmem.server.app", "hybridmem.server.guards", "hybridmem.models"}
    tree = ast.parse("from .guards import x\nfrom ..models import Scope\n")
    assert _imports(tree, modules, "hybridmem.server") == {
        "hybridmem.server.guards",
        "hybridmem.models",
    }


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
