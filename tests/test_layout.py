"""The import graph of `pipeline` and `distributions`: data and imports flow one way.

Every module of both packages is parsed (whatever modules exist when the test runs) and each
import statement in it — at the top or inside a function, since an import moved into a
function to dodge a circle is still a circle — becomes an arrow to the module it names:
`from pkg import name` names `pkg.name` when that is a module, else `pkg`; relative imports
are resolved against the importing module. The package `__init__` that Python also runs for
a submodule import is not an arrow of its own (a package's face hands names on).

A string naming one of our modules by its dotted path (`"pipeline.cli._cmd_run"`, or
`"pipeline.cli._cmd_run:run"` as console scripts name a function) is an arrow too: the CLI
imports each command's module with importlib when the command is dispatched, so that
`--version` or a usage error does not load every engine first; that is plugin-style dispatch,
not a way around the rules, and these arrows keep it under the same layering and circle checks.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
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


_DOTTED = re.compile(r"[A-Za-z_][\w.]*\.[\w]+(?::\w+)?")


def _named_modules(node: ast.AST, module: str, modules: dict) -> set[str]:
    """The modules of ours a string constant names by dotted path (see the docstring); a
    package named so is a resource's anchor (`files("pipeline.udp")`), not an import."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and _DOTTED.fullmatch(node.value)):
        return set()
    name = node.value.partition(":")[0]
    named = name in modules and modules[name].name != "__init__.py"
    return {name} if named and name != module else set()


@cache
def import_graph() -> dict[str, set[str]]:
    """{module: the modules of ours it imports}."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = set().union(*(
            _targets(node, module, path, modules) for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))), *(
            _named_modules(node, module, modules) for node in ast.walk(tree)))
    return graph


def test_the_walk_sees_both_packages_and_their_imports():
    graph = import_graph()
    assert {"pipeline", "distributions", "pipeline.cli._main", "pipeline.udp._caliper",
            "distributions._profile"} <= graph.keys()
    assert "distributions" in graph["pipeline.cli._console"]  # the CLI reads profiles
    # the command modules main() imports when it dispatches, named as `module:function`
    assert "pipeline.cli._cmd_run" in graph["pipeline.cli._main"]
    # `from pkg import module` names the module
    assert "pipeline.generate._rules" in graph["pipeline.generate._beam"]
    assert sum(map(len, graph.values())) > len(graph)


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _crossings(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """Every arrow from a module under `importers` to one under `forbidden`."""
    return sorted(f"{module} -> {target}" for module, targets in import_graph().items()
                  if _under(module, *importers)
                  for target in targets if _under(target, *forbidden))


def test_the_udp_schema_imports_nothing_of_ours_but_the_errors():
    graph = import_graph()
    floor = [m for m in graph if _under(m, "pipeline.udp")]
    assert len(floor) >= 6, floor
    leaks = sorted(f"{m} -> {t}" for m in floor for t in graph[m]
                   if not _under(t, "pipeline.udp") and t != "pipeline.errors")
    assert leaks == [], leaks


def test_the_errors_module_imports_nothing_of_ours():
    assert import_graph()["pipeline.errors"] == set()


def test_profiling_stands_below_generation_outputs_and_the_cli():
    upper = ("pipeline.generate", "pipeline.outputs", "pipeline.cli")
    assert _crossings(("distributions",), upper) == []


def test_generation_does_not_import_outputs_or_the_cli():
    assert _crossings(("pipeline.generate",), ("pipeline.outputs", "pipeline.cli")) == []


def test_outputs_do_not_import_generation_or_the_cli():
    assert _crossings(("pipeline.outputs",), ("pipeline.generate", "pipeline.cli")) == []


def test_the_package_faces_stay_light():
    """`pipeline` hands on the registry and the errors only; the heavy names live below."""
    graph = import_graph()
    heavy = {t for t in graph["pipeline"] if not _under(t, "pipeline.udp", "pipeline.errors")}
    assert heavy == set()


def test_the_import_graph_has_no_circle():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        pytest.fail("import circle: " + " -> ".join(error.args[1]))


def _loaded_by(package: str) -> set[str]:
    """The modules a fresh interpreter holds after `import package`."""
    code = f"import sys, json, {package}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("package", ["distributions", "pipeline"])
def test_importing_a_package_does_not_load_beam_or_dbt(package):
    loaded = _loaded_by(package)
    assert "apache_beam" not in loaded
    assert "dbt" not in loaded
    ours = {m for m in loaded if _under(m, "pipeline", "distributions")}
    assert "pipeline.udp._registry" in ours  # the walk below sees a real import
    assert not {m for m in ours if _under(m, "pipeline.generate", "pipeline.outputs",
                                          "pipeline.cli")}


_ENGINES = ("apache_beam", "dbt", "scipy", "sklearn", "google.cloud.bigquery")


def _snippet(code: str, argument, timeout: int) -> list:
    """Run `code` in a fresh interpreter (with `argument` as sys.argv[1]) and return the
    JSON it printed last: what a command left in sys.modules, among others."""
    result = subprocess.run([sys.executable, "-c", code, str(argument)], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_command_line_loads_a_command_only_when_it_is_dispatched(tmp_path):
    """A usage error, `--version` and `clean` load no engine: each command's module (and its
    stack) is imported when that command runs, so every call that fails early is cheap."""
    code = ("import contextlib, io, json, sys\nfrom pipeline.cli import main\n"
            "codes = [main(['run', '--fte']), main(['profile', '--bogus']),\n"
            "         main(['clean', '--out', sys.argv[1]])]\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.suppress(SystemExit):\n    main(['--version'])\n"
            "print(json.dumps([codes, sorted(sys.modules)]))")
    codes, loaded = _snippet(code, tmp_path / "w", timeout=120)
    assert codes == [2, 2, 0]
    assert not {m for m in loaded for e in _ENGINES if m == e or m.startswith(e + ".")}
    assert "pipeline.cli._cmd_warehouse" in loaded and "pipeline.cli._cmd_run" not in loaded


def test_every_command_is_dispatched_to_a_function():
    from pipeline.cli._main import COMMANDS, command_function
    from pipeline.cli._parser import command_parser

    (commands,) = (a for a in command_parser()._actions if a.dest == "command")
    assert set(COMMANDS) == set(commands.choices)
    assert all(callable(command_function(name)) for name in COMMANDS)


def test_generate_loads_neither_the_profiler_nor_the_evaluation(tmp_path):
    """`generate` imports what it uses: Beam, scipy.special, the generator; not scipy.stats,
    scikit-learn, sdmetrics or the profiler (Beam itself loads pandas and the BigQuery
    client). Checked after a real, tiny run."""
    code, loaded = _modules_after(["generate", *TINY], tmp_path / "w")
    assert code == 0 and "apache_beam" in loaded and "scipy.special" in loaded
    assert not _among(loaded, ("scipy.stats", "sklearn", "sdmetrics", "distributions._profiler",
                               "distributions._sources", "distributions._evaluate"))


def test_run_loads_the_evaluation_only_when_it_evaluates(tmp_path):
    """`run` imports scikit-learn with its evaluation, after the marts, and never Beam or
    the generation package when it builds them: loaded, their ~70 and ~150 MiB would sit
    under the dbt build's peak memory (benchmarks/README.md)."""
    code, loaded = _modules_after(["run", *TINY, "--no-evaluate"], tmp_path / "w")
    assert code == 0 and "dbt" in loaded and "pipeline.cli._cmd_run" in loaded
    assert not _among(loaded, ("sklearn", "distributions._evaluate"))
    # plan, generate and load ran in the child process (pipeline/cli/_job_child.py)
    assert not _among(loaded, ("apache_beam", "pipeline.generate"))


def test_a_run_without_marts_generates_in_its_own_process(tmp_path):
    """Without the build there is no peak to keep Beam out of: a child's start would be
    most of a small run's time."""
    code, loaded = _modules_after(["run", *TINY, "--no-marts", "--no-evaluate"],
                                  tmp_path / "w")
    assert code == 0 and "apache_beam" in loaded and "pipeline.cli._job" in loaded


def test_run_reads_its_inputs_without_beam():
    """`run`'s own process parses and resolves its inputs (profile, settings, Beam options,
    a scenario) without importing Apache Beam or the generation package: its dbt build's
    peak memory is DuckDB's plus this process's (benchmarks/README.md)."""
    scenario = ROOT / "distributions" / "scenarios" / "tutoring.yaml"
    code = ("import json, sys\nfrom pipeline.cli._cmd_run import read_inputs\n"
            "from pipeline.cli._parser import command_parser\n"
            "args, beam = command_parser().parse_known_args(['run', '--fte', '300', "
            "'--scenario', sys.argv[1], '--runner', 'DaskRunner', '--direct_num_workers=2'])\n"
            "inputs = read_inputs(args, beam, check_options=False)\n"
            "print(json.dumps([inputs.resolved.runner, [s['name'] for s in inputs.scenarios],"
            " sorted(sys.modules)]))")
    runner, names, loaded = _snippet(code, scenario, timeout=120)
    assert runner.endswith("dask_runner.DaskRunner") and names == ["tutoring"]
    assert not _among(loaded, ("apache_beam", "pipeline.generate", "dask"))


TINY = ["--fte", "30", "--terms", "1", "--event-days", "1"]


def _modules_after(args: list[str], out) -> tuple[int, list[str]]:
    """The exit code of `campus-synth ARGS --out OUT` run in a fresh interpreter, and the
    modules it left loaded."""
    code = ("import contextlib, io, json, sys\nfrom pipeline.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main({args!r} + ['--out', sys.argv[1]])\n"
            "print(json.dumps([code, sorted(sys.modules)]))")
    code, loaded = _snippet(code, out, timeout=300)
    return code, loaded


def _among(loaded: list[str], packages) -> set[str]:
    """The loaded modules that are `packages` or inside them."""
    return {m for m in loaded for e in packages if m == e or m.startswith(e + ".")}
