"""No import cycles inside `scripts/`: between modules, and between its subpackages.

Every import counts, those inside functions too (a late import hides a cycle, it does not
remove it). A `__main__` module is an entry point that nothing imports: it belongs to no
package's layer. `scripts.vocabulary`, the words everyone shares, imports nothing from
`scripts`.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

from scripts.paths import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"

Graph = dict[str, dict[str, str]]
"""module -> {imported module: where (`file:line`)}."""


def module_files(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(tree: ast.Module, package: str) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:  # `from scripts.backends import postgres`: a module
                yield f"{module}.{alias.name}", node.lineno


def import_graph(root: Path) -> Graph:
    modules = module_files(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges: dict[str, str] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line in _imported_names(tree, package):
            target = resolve(name) if name.split(".")[0] == root.name else None
            if target is not None and target != module:
                edges.setdefault(target, f"{path.relative_to(root.parent)}:{line}")
        graph[module] = edges
    return graph


def layer(module: str) -> str:
    """The subpackage (or top-level module) a module belongs to; an entry point is its own."""
    if module.endswith(".__main__"):
        return module
    return ".".join(module.split(".")[:2])


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {}
    for module, edges in graph.items():
        packages.setdefault(layer(module), {})
        for target, where in edges.items():
            if layer(target) != layer(module):
                packages[layer(module)].setdefault(layer(target), f"{module} -> {target} ({where})")
    return packages


def a_cycle(graph: Mapping[str, Mapping[str, str]]) -> list[str] | None:
    """One cycle of `graph` as its nodes in order (the first again at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def describe(cycle: list[str], graph: Mapping[str, Mapping[str, str]]) -> str:
    links = [f"  {a} -> {b}: {graph[a][b]}" for a, b in itertools.pairwise(cycle)]
    return "import cycle:\n" + "\n".join(links)


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph(SCRIPTS)
    cycle = a_cycle(graph)
    assert cycle is None, describe(cycle, graph)


def test_no_subpackage_imports_one_that_imports_it_back() -> None:
    packages = package_graph(import_graph(SCRIPTS))
    cycle = a_cycle(packages)
    assert cycle is None, describe(cycle, packages)


def test_the_vocabulary_imports_nothing_from_scripts() -> None:
    assert import_graph(SCRIPTS)["scripts.vocabulary"] == {}


def test_a_cycle_is_named_by_the_imports_that_close_it(tmp_path: Path) -> None:
    root = tmp_path / "scripts"
    (root / "low").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("")
    (root / "low" / "words.py").write_text("def late():\n    from scripts.high import x\n")
    (root / "high.py").write_text("from scripts.low.words import late\nx = 1\n")
    graph = import_graph(root)
    cycle = a_cycle(graph)
    assert cycle is not None
    message = describe(cycle, graph)
    assert "scripts.low.words -> scripts.high: scripts/low/words.py:2" in message
    assert "scripts.high -> scripts.low.words: scripts/high.py:1" in message
