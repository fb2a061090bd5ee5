"""The committed prompt-recovery sample loads through the registry (its datasheet's row counts: tests/common/test_registry.py)."""
import polars as pl

from common.data import load_dataset
from common.registry import get_competition
from competitions.prompt_recovery.rewrite_prompts import REWRITE_PROMPTS

COMP = get_competition("prompt-recovery")


def test_sample_loads_with_three_hundred_rewrites_of_known_instructions():
    ds = load_dataset(COMP)
    train, test = ds.tables["train"], ds.tables["test"]
    labels = pl.read_csv(COMP.sample_dir / "test_labels.csv")
    assert train.height + test.height >= 300
    assert set(train["rewrite_prompt"]) | set(labels["rewrite_prompt"]) <= set(REWRITE_PROMPTS)
    assert train["rewrite_prompt"].n_unique() >= 30
    assert labels["id"].cast(pl.String).to_list() == test["id"].to_list() == ds.tables["sample_submission"]["id"].to_list()
    for frame in (train, test):
        assert (frame["rewritten_text"].str.strip_chars().str.len_chars() > 0).all()
        assert (frame["original_text"] != frame["rewritten_text"]).all()


def test_originals_come_from_two_sources():
    train = load_dataset(COMP).tables["train"]
    assert set(train["source"]) == {"wikipedia", "austen"}
    assert set(train["model"]) == {"smollm2"}
