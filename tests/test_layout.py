"""The import graph of `pipeline` and `distributions`: data and imports flow one way.

Every module of both packages is parsed (whatever modules exist when the test runs) and each
import statement in it — at the top or inside a function, since an import moved into a
function to dodge a circle is still a circle — becomes an arrow to the module it names:
`from pkg import name` names `pkg.name` when that is a module, else `pkg`; relative imports
are resolved against the importing module. The package `__init__` that Python also runs for
a submodule import is not an arrow of its own (a package's face hands names on).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "distributions")


def _modules() -> dict[str, Path]:
    """{dotted name: file} of every module of our packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of `level` dots starts from."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return package


def _targets(node: ast.AST, module: str, path: Path, modules: dict) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            base = _base(module, path, node.level) + (f".{base}" if base else "")
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                 for a in node.names]
    targets = set()
    for name in names:
        while name and name not in modules:  # `import a.b.c`: the deepest module of ours
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    """{module: the modules of ours it imports}."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = set().union(*(
            _targets(node, module, path, modules) for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))))
    return graph


def test_the_walk_sees_both_packages_and_their_imports():
    graph = import_graph()
    assert {"pipeline", "distributions", "pipeline._cli", "pipeline._events.caliper",
            "distributions._profile"} <= graph.keys()
    assert "distributions" in graph["pipeline._cli"]  # the CLI reads profiles
    assert "pipeline._events.schema" in graph["pipeline._duckdb"]  # `from pkg import module`
    assert sum(map(len, graph.values())) > len(graph)


def test_the_import_graph_has_no_circle():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        pytest.fail("import circle: " + " -> ".join(error.args[1]))


def test_import_distributions_does_not_load_beam():
    code = ("import sys, distributions; "
            "assert 'apache_beam' not in sys.modules, 'apache_beam was imported'; "
            "assert 'pipeline' not in sys.modules, 'pipeline was imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
