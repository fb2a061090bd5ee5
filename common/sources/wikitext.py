"""Plain text out of a MediaWiki XML dump (the format of Wikipedia's pages-articles files).

    articles = wiki_articles(bz2.decompress(raw))    # [("Albedo", "Albedo is the measure of ..."), ...]
    passages = split_passages(text, max_words=120)   # paragraph-aligned chunks

The markup stripper is deliberately small: it drops templates, tables, references, files and
categories, keeps link labels, and removes bold/italic quotes and headings. Redirects and
non-article namespaces are skipped.
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

_NESTED = [("{{", "}}"), ("{|", "|}")]
_DROP_LINK = re.compile(r"\[\[(?:File|Image|Category|[a-z]{2,3}(?:-[a-z]+)?):[^\[\]]*(?:\[\[[^\]]*\]\][^\[\]]*)*\]\]",
                        re.IGNORECASE)
_LINK = re.compile(r"\[\[(?:[^|\]]*\|)?([^\]]*)\]\]")
_EXTERNAL = re.compile(r"\[(?:https?|ftp)://\S+\s*([^\]]*)\]")
_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.DOTALL | re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_HEADING = re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.MULTILINE)
_QUOTES = re.compile(r"'{2,}")


def _drop_nested(text: str, open_: str, close: str) -> str:
    """Remove balanced open_...close spans (templates nest inside templates)."""
    out, depth, i = [], 0, 0
    while i < len(text):
        if text.startswith(open_, i):
            depth += 1
            i += len(open_)
        elif depth and text.startswith(close, i):
            depth -= 1
            i += len(close)
        else:
            if depth == 0:
                out.append(text[i])
            i += 1
    return "".join(out)


def strip_markup(wikitext: str) -> str:
    """Readable plain text of one article's wikitext; paragraphs separated by blank lines."""
    text = _COMMENT.sub("", wikitext)
    text = _REF.sub("", text)
    for open_, close in _NESTED:
        text = _drop_nested(text, open_, close)
    text = _DROP_LINK.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EXTERNAL.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTES.sub("", text)
    text = re.sub(r"\s*\(\s*[,;]?\s*\)", "", text)
    text = text.replace("&nbsp;", " ").replace("&ndash;", "-").replace("&mdash;", "-")
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("*", "#", ":", ";", "|", "!")):
            line = line.lstrip("*#:;|! ").strip()
            if len(line.split()) < 8:  # list items and table debris: keep only sentence-like ones
                continue
        lines.append(re.sub(r"\s{2,}", " ", line))
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
    return "\n\n".join(p.replace("\n", " ").strip() for p in paragraphs if len(p.split()) >= 5)


def wiki_articles(xml_bytes: bytes, min_words: int = 50) -> list[tuple[str, str]]:
    """(title, plain text) of every main-namespace, non-redirect page with at least min_words words."""
    articles = []
    for _, elem in ET.iterparse(io.BytesIO(xml_bytes), events=("end",)):
        if not elem.tag.endswith("}page"):
            continue
        ns = elem.find("{*}ns")
        title = elem.find("{*}title")
        text = elem.find("{*}revision/{*}text")
        is_article = ns is not None and ns.text == "0" and elem.find("{*}redirect") is None
        if is_article and title is not None and text is not None and text.text:
            body = text.text
            if not body.lstrip().lower().startswith("#redirect"):
                plain = strip_markup(body)
                if len(plain.split()) >= min_words:
                    articles.append((title.text, plain))
        elem.clear()
    return articles


def split_passages(text: str, max_words: int = 120, min_words: int = 20) -> list[str]:
    """Group paragraphs into passages of at most ~max_words words; long paragraphs split by sentence."""
    pieces = []
    for paragraph in text.split("\n\n"):
        if len(paragraph.split()) <= max_words:
            pieces.append(paragraph)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", paragraph)
        pieces.extend(_pack(sentences, max_words))
    return [p for p in _pack(pieces, max_words) if len(p.split()) >= min_words]


def _pack(units: list[str], max_words: int) -> list[str]:
    out, current, count = [], [], 0
    for unit in units:
        n = len(unit.split())
        if current and count + n > max_words:
            out.append(" ".join(current))
            current, count = [], 0
        current.append(unit)
        count += n
    if current:
        out.append(" ".join(current))
    return out
