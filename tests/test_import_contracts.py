"""The architecture is one direction, as import-linter contracts (pyproject.toml's
[tool.importlinter]): a layers contract (a package imports only the layers below it; "a | b" share
a layer and neither imports the other) and an acyclic-siblings contract (no import cycles between
the modules and subpackages of any package). grimp reads every import, lazy ones inside functions
too. docs/architecture.md's layer table is checked against the contracts and the real imports:
`python tests/test_import_contracts.py` prints the table as it must read."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
             ["contracts"]}
KINDS = {"layers": LayersContract, "acyclic_siblings": AcyclicSiblingsContract}
LEAVES = ("_version", "errors", "faults")  # every layer may use them: the table leaves them out
TABLE_START, TABLE_END = "    layer  package", "\n\n"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("hyperlab")


def kept(contract_id: str, graph: grimp.ImportGraph) -> bool:
    configuration.configure()
    contract = CONTRACTS[contract_id]
    options = {k: str(v) if isinstance(v, bool) else v for k, v in contract.items()
               if k not in ("id", "name", "type")}
    return KINDS[contract["type"]](contract["name"], {"root_packages": ["hyperlab"]}, options).check(
        graph, verbose=False).kept


def layers() -> list[list[str]]:
    """The layers contract's layers from the bottom (layer 0), each a list of packages."""
    return [[p.strip() for p in layer.split("|")] for layer in reversed(CONTRACTS["layers"]["layers"])]


def package_imports(graph: grimp.ImportGraph, package: str) -> list[str]:
    """The packages `package` imports directly (leaves left out), bottom layer first."""
    order = [p for layer in layers() for p in layer]
    name = f"hyperlab.{package}"
    modules = {name} | (graph.find_descendants(name) if package != "__main__" else set())
    imported = {m for module in modules for m in graph.find_modules_directly_imported_by(module)}
    found = {m.split(".")[1] for m in imported if m.startswith("hyperlab.") and m.split(".")[1] != package}
    return sorted((p for p in found if p not in LEAVES), key=order.index)


def table(graph: grimp.ImportGraph) -> str:
    """docs/architecture.md's layer table, from the contracts and the real imports."""
    rows = [TABLE_START + "      imports (besides _version, errors and faults, which every layer may use)"]
    for number, layer in enumerate(layers()):
        for package in layer:
            rows.append(f"    {number:<6} {package:<12} {', '.join(package_imports(graph, package)) or '-'}")
    return "\n".join(rows)


def test_lint_imports_passes() -> None:
    lint = Path(sys.executable).with_name("lint-imports")  # installed by the dev extra (README setup)
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


@pytest.mark.parametrize(("importer", "imported", "contract_id"), [
    ("hyperlab.store.sqlite", "hyperlab.runner.run", "layers"),  # a package reaching up the chain
    ("hyperlab.plan.make", "hyperlab.store.sqlite", "layers"),  # two packages of one layer
    ("hyperlab.engine.book", "hyperlab.measure.summary", "layers"),  # the same, lower down
    ("hyperlab.runner.task", "hyperlab.runner.run", "acyclic"),  # a cycle inside a package
])
def test_the_contracts_break_on_an_import_they_forbid(graph, importer, imported, contract_id) -> None:
    assert kept(contract_id, graph)
    graph.add_import(importer=importer, imported=imported)
    try:
        assert not kept(contract_id, graph)
    finally:
        graph.remove_import(importer=importer, imported=imported)  # the graph is shared by the module


def test_the_contracts_name_every_package_once() -> None:
    named = [p for layer in layers() for p in layer]
    packages = {p.name.removesuffix(".py") for p in (ROOT / "src" / "hyperlab").iterdir()
                if (p / "__init__.py").exists() or (p.suffix == ".py" and p.stem != "__init__")}
    assert sorted(named) == sorted(packages)


def test_the_architecture_page_shows_the_contracts_layer_table(graph) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index(TABLE_START)
    assert text[start:text.index(TABLE_END, start)] == table(graph)


if __name__ == "__main__":
    print(table(grimp.build_graph("hyperlab")))
