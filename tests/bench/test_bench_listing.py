"""Every benchmark module is named where people look for it: `make help`'s bench line and the
README's Benchmarks heading. A new bench/ module that one of them leaves out fails here."""
from __future__ import annotations

import re

from cli.commands.bench import available
from common.paths import repo_root


def _names_in(line: str) -> set[str]:
    listed = re.search(r"BENCH=([a-z0-9_|]+)", line)
    assert listed, line
    return set(listed.group(1).split("|"))


def test_make_help_and_readme_name_every_benchmark():
    root = repo_root()
    benches = set(available())
    assert {"quant", "zero_points", "retrieval"} <= benches
    make_line = next(line for line in (root / "Makefile").read_text().splitlines() if line.startswith("bench:"))
    readme_line = next(line for line in (root / "README.md").read_text(encoding="utf-8").splitlines()
                       if line.startswith("## Benchmarks:"))
    assert benches - _names_in(make_line) == set(), "missing from the Makefile's bench help"
    assert benches - _names_in(readme_line) == set(), "missing from the README's Benchmarks heading"
