"""The committed prompt-recovery sample loads through the registry and matches its datasheet."""
import polars as pl

from common.data import load_dataset
from common.registry import get_competition
from common.sources.samples import kaggle_rows, read_counts
from competitions.prompt_recovery.rewrite_prompts import REWRITE_PROMPTS

COMP = get_competition("prompt-recovery")


def test_sample_loads_with_three_hundred_rewrites_of_known_instructions():
    ds = load_dataset(COMP)
    train, test = ds.tables["train"], ds.tables["test"]
    labels = pl.read_csv(COMP.sample_dir / "test_labels.csv")
    assert train.height + test.height >= 300
    assert set(train["rewrite_prompt"]) | set(labels["rewrite_prompt"]) <= set(REWRITE_PROMPTS)
    assert train["rewrite_prompt"].n_unique() >= 30
    assert labels["id"].to_list() == test["id"].to_list() == ds.tables["sample_submission"]["id"].to_list()
    for frame in (train, test):
        assert (frame["rewritten_text"].str.strip_chars().str.len_chars() > 0).all()
        assert (frame["original_text"] != frame["rewritten_text"]).all()


def test_originals_come_from_two_sources():
    train = load_dataset(COMP).tables["train"]
    assert set(train["source"]) == {"wikipedia", "austen"}
    assert set(train["model"]) == {"smollm2"}


def test_datasheet_counts_match_files():
    counts = read_counts(COMP.sample_dir.parent / "DATASHEET.md")
    assert set(counts) == {p.name for p in COMP.sample_dir.iterdir() if p.suffix == ".csv"}
    for name, rows in counts.items():
        assert kaggle_rows(COMP.sample_dir / name) == rows, name
