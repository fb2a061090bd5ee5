"""The import rules of ARCHITECTURE.md, checked on the source (every import, also inside functions):

    common/        imports no competition, edge, cli or bench
    competitions/  import no edge or cli, and never each other
    edge/          imports no cli and no competition
    bench/         imports no cli (the CLI runs the benchmarks)
    edge/runtime/  imports only onnxruntime, onnxruntime_genai, tokenizers, numpy and the stdlib
"""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_ALLOWED = {"onnxruntime", "onnxruntime_genai", "tokenizers", "numpy"}
FORBIDDEN = {  # folder -> top-level packages it must not import
    "common": {"competitions", "edge", "cli", "bench"},
    "competitions": {"edge", "cli", "bench"},
    "edge": {"competitions", "cli", "bench"},
    "bench": {"cli"},
}


def imports_of(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (relative imports stay in their package),
    also by a literal name: importlib.import_module("x.y"), __import__("x")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and not node.args[0].value.startswith(".")
              and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__")):
            names.add(node.args[0].value)
    return names


def python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


RULES = [(folder, path) for folder in FORBIDDEN for path in python_files(folder)]


@pytest.mark.parametrize("folder, path", RULES, ids=[str(p.relative_to(ROOT)) for _, p in RULES])
def test_no_import_points_upward(folder, path):
    bad = {n for n in imports_of(path) if n.split(".")[0] in FORBIDDEN[folder]}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: {folder}/ must not import {sorted(FORBIDDEN[folder])}"


def test_competitions_never_import_each_other():
    for package in (p for p in (ROOT / "competitions").iterdir() if (p / "__init__.py").exists()):
        for path in package.rglob("*.py"):
            others = {n for n in imports_of(path)
                      if n.startswith("competitions.") and n.split(".")[1] != package.name}
            assert not others, f"{path} imports {others}"


def test_edge_runtime_stands_alone():
    runtime = ROOT / "edge" / "runtime"
    files = python_files("edge/runtime")
    assert files, "edge/runtime/ has no Python files"
    stdlib = set(sys.stdlib_module_names)
    siblings = {p.stem for p in files if p.parent == runtime}   # run as a script, a file imports these by name
    for path in files:
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top in stdlib or top in RUNTIME_ALLOWED or top in siblings, f"{path} imports {name}"
        depth = len(path.relative_to(runtime).parts)  # a relative import may climb to runtime/, no higher
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.ImportFrom) and node.level > depth), f"{path} imports from outside runtime/"


def test_the_rules_catch_an_upward_import(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("import os\n\ndef f():\n    from cli.main import main\n    from . import sibling\n"
                      "    importlib.import_module('edge.pipeline')\n    __import__('bench')\n"
                      "    importlib.import_module(name)\n    importlib.import_module('.x', 'common')\n")
    assert imports_of(sample) == {"os", "cli.main", "edge.pipeline", "bench"}
