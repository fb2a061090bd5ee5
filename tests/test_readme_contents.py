"""The README's contents list links every top-level section, each to an anchor that exists
(GitHub's rule: lower case, punctuation dropped, spaces to hyphens)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_the_contents_list_links_every_section():
    text = README.read_text(encoding="utf-8")
    sections = [line[3:] for line in text.splitlines() if line.startswith("## ") and line != "## Contents"]
    contents = text.partition("## Contents")[2].partition("\n## ")[0]
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    assert links == [anchor(title) for title in sections]


def test_the_readme_names_every_registered_competition():
    """The table at the top and the "COMP is one of" line (kept by hand, like the Makefile's COMPS)."""
    import competitions  # noqa: F401  (fills the registry)
    from common.registry import all_competitions

    text = README.read_text(encoding="utf-8")
    slugs = sorted(c.slug for c in all_competitions())
    table = text.partition("| slug |")[2].partition("\n\n")[0]
    assert sorted(re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)) == slugs
    one_of = re.search(r"COMP is one of\n((?:`[a-z0-9-]+`,? ?\n?)+)", text.replace(":\n", "\n"))
    assert one_of is not None and sorted(re.findall(r"`([a-z0-9-]+)`", one_of.group(1))) == slugs
