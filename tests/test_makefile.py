"""The Makefile's own lists stay true to the code: `make help` names every registered competition."""
from __future__ import annotations

import re

import competitions  # noqa: F401  (fills the registry)
from common.paths import repo_root
from common.registry import all_competitions


def test_make_help_names_every_registered_competition():
    makefile = (repo_root() / "Makefile").read_text()
    listed = re.search(r"^COMPS := (.+)$", makefile, re.M).group(1).split()
    assert sorted(listed) == sorted(c.slug for c in all_competitions())
    assert "@echo \"COMP is one of: $(COMPS)" in makefile
