"""The committed detect-ai-text sample loads through the registry (its datasheet's row counts: tests/common/test_registry.py)."""
import polars as pl

from common.data import load_dataset
from common.registry import get_competition

COMP = get_competition("detect-ai-text")


def test_sample_loads_with_both_classes_in_train_and_test():
    ds = load_dataset(COMP)
    train, test = ds.tables["train"], ds.tables["test"]
    labels = pl.read_csv(COMP.sample_dir / "test_labels.csv")
    assert train.height + test.height >= 1200
    assert set(train["generated"]) == {0, 1}
    assert set(labels["generated"]) == {0, 1}
    assert labels["id"].to_list() == test["id"].to_list() == ds.tables["sample_submission"]["id"].to_list()
    assert not set(train["id"]) & set(test["id"])
    assert not set(train["prompt_id"]) & set(test["prompt_id"])
    assert set(train["prompt_id"]) <= set(ds.tables["train_prompts"]["prompt_id"])


def test_two_human_sources_and_several_generators_are_recorded():
    train = load_dataset(COMP).tables["train"]
    human, ai = train.filter(pl.col("generated") == 0), train.filter(pl.col("generated") == 1)
    assert set(human["source"]) == {"wikipedia", "austen"}
    assert set(human["generator"]) == {"human"}
    assert set(ai["model"]) == {"smollm2"}
    assert ai["generator"].n_unique() >= 2
    assert (ai["gen_config"].str.len_chars() > 0).all()


def test_human_and_ai_lengths_are_comparable():
    train = load_dataset(COMP).tables["train"].with_columns(words=pl.col("text").str.split(" ").list.len())
    medians = train.group_by("generated").agg(pl.col("words").median()).sort("generated")["words"].to_list()
    assert 0.6 < medians[0] / medians[1] < 1.6, medians
    assert (train["words"] >= 10).all()
