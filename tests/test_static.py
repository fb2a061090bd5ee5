"""Static checks over every Python file of the project (pyflakes): no undefined name anywhere, and
no unused import outside tests/ (where fixtures are imported by name). A line marked `# noqa`
(an intended re-export or a registering import) is exempt. Moving functions between modules can
leave a name behind that only a long benchmark would reach; this finds it in seconds."""
from __future__ import annotations

from pathlib import Path

import pyflakes.messages as messages
from pyflakes.api import checkPath
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "competitions", "edge", "cli", "bench", "tests")
ALWAYS = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport)


class _Collect(Reporter):
    def __init__(self):
        self.found = []

    def flake(self, message):
        self.found.append(message)

    def syntaxError(self, filename, msg, lineno, offset, text):
        self.found.append(f"{filename}:{lineno}: {msg}")

    def unexpectedError(self, filename, msg):
        self.found.append(f"{filename}: {msg}")


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    report = _Collect()
    checkPath(str(path), report)
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = ALWAYS if path.relative_to(root).parts[0] == "tests" else ALWAYS + (messages.UnusedImport,)
    out = []
    for message in report.found:
        if isinstance(message, str):
            out.append(message)
        elif isinstance(message, wanted) and "noqa" not in lines[message.lineno - 1]:
            out.append(str(message).replace(str(root) + "/", ""))
    return out


def test_no_undefined_names_and_no_unused_imports():
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 100
    problems = [problem for path in files for problem in _problems(path)]
    assert not problems, "\n".join(problems)


def test_the_check_sees_an_undefined_name_and_an_unused_import_but_not_a_marked_one(tmp_path):
    (tmp_path / "bench").mkdir()
    module = tmp_path / "bench" / "probe.py"
    module.write_text("import os\nimport sys  # noqa: F401\n\n\ndef f():\n    return missing_name\n")
    found = _problems(module, root=tmp_path)
    assert any("undefined name 'missing_name'" in p for p in found)
    assert any("'os' imported but unused" in p for p in found)
    assert not any("'sys'" in p for p in found)
