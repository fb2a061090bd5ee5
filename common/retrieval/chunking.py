"""Load a retrieval corpus and cut it into passages of a few sentences.

    corpus = load_corpus(Path("wiki/"))          # a .parquet/.txt file or a folder of them
    chunks = chunk_corpus(corpus, ChunkConfig(max_words=80, overlap_words=20))
    chunks["text"][0], chunks["doc_id"][0]

A parquet file needs a `text` column (`id` and `title` are optional); a .txt file is one
document titled by its file name. Folders are read recursively in sorted order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from common.errors import UserError

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ChunkConfig:
    """max_words: words per passage at most (MiniLM reads ~128 tokens ≈ 90 words).
    overlap_words: words repeated from the end of one passage at the start of the next.
    min_words: passages shorter than this are dropped (headers, stubs)."""

    max_words: int = 80
    overlap_words: int = 20
    min_words: int = 5


def chunk_text(text: str, config: ChunkConfig = ChunkConfig()) -> list[str]:
    """Pack whole sentences into windows of at most max_words, with overlap between windows.

    >>> chunk_text("One two. Three four.", ChunkConfig(max_words=2, overlap_words=0, min_words=1))
    ['One two.', 'Three four.']
    """
    if config.overlap_words >= config.max_words:
        raise UserError(f"chunk overlap ({config.overlap_words}) must be below max_words ({config.max_words})")
    words: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        words.extend(sentence.split())
    if not words:
        return []
    step = config.max_words - config.overlap_words
    chunks = []
    for start in range(0, len(words), step):
        window = words[start:start + config.max_words]
        if len(window) >= config.min_words or (start == 0 and window):
            chunks.append(" ".join(window))
        if start + config.max_words >= len(words):
            break
    return chunks


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as err:
        raise UserError(f"{path}: cannot read as Parquet: {str(err).strip().splitlines()[0]}") from None
    if "text" not in frame.columns:
        raise UserError(f"{path}: a corpus parquet needs a 'text' column; found {', '.join(frame.columns)}")
    title = frame["title"].cast(pl.String) if "title" in frame.columns else pl.Series([path.stem] * len(frame))
    ids = frame["id"].cast(pl.String) if "id" in frame.columns else pl.Series(
        [f"{path.stem}:{i}" for i in range(len(frame))])
    return pl.DataFrame({"id": ids, "title": title.fill_null(""), "text": frame["text"].cast(pl.String)})


def _read_text(path: Path) -> pl.DataFrame:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: corpus text files must be UTF-8") from None
    return pl.DataFrame({"id": [path.stem], "title": [path.stem.replace("_", " ")], "text": [text]})


def load_corpus(path: Path) -> pl.DataFrame:
    """Columns id, title, text: one row per document; rows with empty text are dropped."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"corpus not found: {path}")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix in (".parquet", ".txt"))
    files = [f for f in files if f.suffix in (".parquet", ".txt")]
    if not files:
        raise UserError(f"{path}: no .parquet or .txt corpus files")
    frames = [_read_parquet(f) if f.suffix == ".parquet" else _read_text(f) for f in files]
    corpus = pl.concat(frames).filter(pl.col("text").is_not_null() & (pl.col("text").str.strip_chars() != ""))
    if corpus.is_empty():
        raise UserError(f"{path}: the corpus has no non-empty text")
    return corpus


def chunk_corpus(corpus: pl.DataFrame, config: ChunkConfig = ChunkConfig()) -> pl.DataFrame:
    """Columns chunk_id (0..n-1), doc_id, title, text: one row per passage."""
    doc_ids, titles, texts = [], [], []
    for doc_id, title, text in corpus.select("id", "title", "text").iter_rows():
        for piece in chunk_text(text, config):
            doc_ids.append(str(doc_id))
            titles.append(title)
            texts.append(piece)
    return pl.DataFrame({"chunk_id": list(range(len(texts))), "doc_id": doc_ids, "title": titles, "text": texts},
                        schema={"chunk_id": pl.Int64, "doc_id": pl.String, "title": pl.String, "text": pl.String})


def passage_strings(chunks: pl.DataFrame) -> list[str]:
    """What the encoders and the answering models read: 'title: text'."""
    return [f"{title}: {text}" if title else text for title, text in chunks.select("title", "text").iter_rows()]
