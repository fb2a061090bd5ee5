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
