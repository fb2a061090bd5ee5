"""pytest imports test files by basename (no __init__.py in tests/): two files of one name in
different folders stop the whole collection, so every basename is unique."""
from collections import Counter
from pathlib import Path


def test_every_test_file_has_a_name_of_its_own():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
