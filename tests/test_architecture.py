"""The package's shape: import-linter's contracts hold, no module imports itself through others, modules stay small."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import HANG_S

PACKAGE = Path(__file__).resolve().parents[1] / "lepton_nb"
MAX_LINES = 400


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.find_modules_directly_imported_by(node):
            if nxt not in graph.modules or not nxt.startswith("lepton_nb"):
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in sorted(graph.modules):
        if module.startswith("lepton_nb") and module not in index:
            visit(module)
    return cycles


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph("lepton_nb")
    # a package's __init__ re-exporting its children is not a cycle of the code's design
    graph.modules  # noqa: B018 - builds the module set
    for module in list(graph.modules):
        if module.startswith("lepton_nb") and (PACKAGE.parent / module.replace(".", "/") / "__init__.py").is_file():
            for child in graph.find_children(module):
                if graph.direct_import_exists(importer=module, imported=child):
                    graph.remove_import(importer=module, imported=child)
    assert import_cycles(graph) == []


def test_modules_stay_small():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
             for p in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the dev extras"
    proc = subprocess.run([lint], capture_output=True, text=True, cwd=PACKAGE.parent, timeout=HANG_S)
    assert proc.returncode == 0, proc.stdout[-3000:]
