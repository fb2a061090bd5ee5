import polars as pl
import pytest

from common.errors import UserError
from common.retrieval import ChunkConfig, chunk_corpus, chunk_text, load_corpus, passage_strings


def test_chunk_text_windows_overlap_and_cover_every_word():
    text = " ".join(f"w{i}." for i in range(25))
    chunks = chunk_text(text, ChunkConfig(max_words=10, overlap_words=3, min_words=1))
    assert chunks[0].split() == [f"w{i}." for i in range(10)]
    assert chunks[1].split()[0] == "w7."               # 3 words repeated
    covered = {w for c in chunks for w in c.split()}
    assert covered == {f"w{i}." for i in range(25)}


def test_chunk_text_rejects_overlap_not_below_size():
    with pytest.raises(UserError):
        chunk_text("a b c", ChunkConfig(max_words=3, overlap_words=3))


def test_load_corpus_reads_parquet_and_text_folder(tmp_path):
    pl.DataFrame({"title": ["Leaf"], "text": ["A leaf makes food."]}).write_parquet(tmp_path / "a.parquet")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Moon_facts.txt").write_text("The moon reflects sunlight.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("   ", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert corpus["title"].to_list() == ["Leaf", "Moon facts"]
    chunks = chunk_corpus(corpus)
    assert passage_strings(chunks) == ["Leaf: A leaf makes food.", "Moon facts: The moon reflects sunlight."]


def test_load_corpus_bad_inputs_raise_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_corpus(tmp_path / "missing")
    pl.DataFrame({"body": ["x"]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(UserError, match="'text' column"):
        load_corpus(tmp_path / "bad.parquet")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(UserError, match="UTF-8"):
        load_corpus(tmp_path / "latin1.txt")
