"""The import rules of ARCHITECTURE.md, checked on the source: common/ imports no competition,
edge or CLI; no competition imports another; edge/runtime imports only its allowed modules."""
import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_ALLOWED = {"onnxruntime", "tokenizers", "numpy"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("common"), ids=lambda p: str(p.relative_to(ROOT)))
def test_common_imports_nothing_above_it(path):
    bad = {n for n in imports_of(path) if n.split(".")[0] in {"competitions", "edge", "cli", "bench"}}
    assert not bad, f"{path} imports {bad}"


def test_competitions_never_import_each_other():
    for package in (p for p in (ROOT / "competitions").iterdir() if (p / "__init__.py").exists()):
        for path in package.rglob("*.py"):
            others = {n for n in imports_of(path)
                      if n.startswith("competitions.") and n.split(".")[1] != package.name}
            assert not others, f"{path} imports {others}"


def test_edge_runtime_stands_alone():
    files = python_files("edge/runtime")
    stdlib = set(sys.stdlib_module_names)
    for path in files:
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top in stdlib or top in RUNTIME_ALLOWED, f"{path} imports {name}"
