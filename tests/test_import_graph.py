"""The architecture is one direction: no import cycles between packages or between modules, and no
package importing one to its right in docs/architecture.md's order. Imports are read with `ast` from
the source (module level and inside functions alike, `importlib.import_module("...")` included), so
a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "hyperlab"

# Left to right, as docs/architecture.md draws it: a package imports only packages to its left.
ORDER = ["_version", "errors", "faults", "data", "models", "measure", "engine", "vectorized", "spec", "plan",
         "store", "search", "proposers", "runner", "analysis", "report", "serve", "api", "cli", "__main__",
         "hyperlab"]


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package ("hyperlab.engine" is its __init__)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The hyperlab modules `name` imports: `from a.b import c` is a.b.c when that is a module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("hyperlab"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if not source.startswith("hyperlab"):
                continue
            submodules = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in modules]
            yield from submodules
            if len(submodules) < len(node.names):
                yield source
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).startswith("hyperlab")):
            yield str(node.args[0].value)


def module_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: {m for m in imported(name, path, modules) if m != name and m in modules}
            for name, path in modules.items()}


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hyperlab"


def package_graph(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for source, targets in modules.items():
        edges = graph.setdefault(package_of(source), set())
        edges.update(package_of(t) for t in targets if package_of(t) != package_of(source))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_packages_import_each_other_even_lazily() -> None:
    assert cycles(package_graph(module_graph())) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(module_graph()) == []


def test_every_package_imports_only_packages_to_its_left() -> None:
    wrong = [f"{source} imports {target}" for source, targets in package_graph(module_graph()).items()
             for target in targets if source in ORDER and target in ORDER
             and ORDER.index(target) > ORDER.index(source)]
    assert wrong == []


def test_the_checks_see_a_cycle_when_there_is_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    modules = module_graph()
    assert "hyperlab.runner.stacked" in modules["hyperlab.runner.run"]  # lazy imports are read too
