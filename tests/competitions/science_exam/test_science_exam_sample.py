"""The committed science-exam sample loads through the registry (its datasheet's row counts: tests/common/test_registry.py)."""
import polars as pl
import pytest

from common.data import load_dataset
from common.registry import get_competition
from competitions.science_exam import OPTIONS

COMP = get_competition("science-exam")


def test_sample_loads_and_passes_schema():
    ds = load_dataset(COMP)
    assert ds.source == "sample"
    train, test = ds.tables["train"], ds.tables["test"]
    assert train.height + test.height >= 400
    assert "answer" not in test.columns
    assert set(train["answer"]) == set(OPTIONS)
    assert ds.tables["sample_submission"]["id"].to_list() == test["id"].to_list()


def test_every_question_has_five_distinct_options_and_one_answer_letter():
    train = load_dataset(COMP).tables["train"]
    for row in train.iter_rows(named=True):
        options = [row[o].strip().lower() for o in OPTIONS]
        assert len(set(options)) == 5, row["prompt"]
        assert row["answer"] in OPTIONS


def test_test_labels_cover_test_and_prompts_do_not_leak_between_splits():
    ds = load_dataset(COMP)
    labels = pl.read_csv(COMP.sample_dir / "test_labels.csv")
    assert labels["id"].cast(pl.String).to_list() == ds.tables["test"]["id"].to_list()
    assert set(labels["answer"]) <= set(OPTIONS)
    def questions(frame):  # OpenBookQA reuses some stems with other options: compare whole questions
        return {(r["prompt"], *sorted(r[o] for o in OPTIONS)) for r in frame.iter_rows(named=True)}

    assert not questions(ds.tables["train"]) & questions(ds.tables["test"])


def test_corpus_has_ten_thousand_real_passages_from_several_sources():
    corpus = pl.read_parquet(COMP.sample_dir / "corpus.parquet")
    assert corpus.columns == ["id", "title", "text", "source"]
    assert corpus.height >= 10_000
    assert corpus["id"].n_unique() == corpus.height
    assert corpus["text"].n_unique() == corpus.height
    assert {"boolq", "wikipedia", "wordnet", "elements"} <= set(corpus["source"])
    assert corpus["text"].str.len_chars().min() >= 10
    assert corpus["text"].str.len_chars().median() > 150


@pytest.mark.slow
def test_build_with_limit_is_deterministic_and_leaves_the_sample_alone(tmp_path):
    from competitions.science_exam.dataset import build

    before = (COMP.sample_dir / "train.csv").read_bytes()
    build(limit=30, seed=0, out_dir=tmp_path / "a")
    build(limit=30, seed=0, out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "train.csv").read_bytes() == (tmp_path / "b" / "train.csv").read_bytes()
    assert len(pl.read_csv(tmp_path / "a" / "train.csv")) + len(pl.read_csv(tmp_path / "a" / "test.csv")) == 30
    assert (COMP.sample_dir / "train.csv").read_bytes() == before
