"""The committed predict-the-llm sample loads through the registry (its datasheet's row counts: tests/common/test_registry.py)."""
import polars as pl

from common.data import load_dataset
from common.registry import get_competition
from competitions.predict_the_llm import N_TARGETS

COMP = get_competition("predict-the-llm")


def test_sample_loads_with_seven_responses_per_question():
    ds = load_dataset(COMP)
    train, test = ds.tables["train"], ds.tables["test"]
    labels = pl.read_csv(COMP.sample_dir / "test_labels.csv")
    assert set(train["target"]) == set(range(N_TARGETS))
    assert set(labels["target"]) == set(range(N_TARGETS))
    n_questions = train["Question"].n_unique() + test["Question"].n_unique()
    assert n_questions >= 150
    assert train.height + test.height == n_questions * N_TARGETS
    assert (train.group_by("Question").agg(pl.col("target").n_unique())["target"] == N_TARGETS).all()
    assert not set(train["Question"]) & set(test["Question"])
    assert labels["id"].cast(pl.String).to_list() == test["id"].to_list() == ds.tables["sample_submission"]["id"].to_list()


def test_each_target_is_a_documented_distinct_generator():
    generators = pl.read_csv(COMP.sample_dir / "generators.csv")
    assert generators["target"].to_list() == list(range(N_TARGETS))
    assert generators["gen_config"].n_unique() == N_TARGETS
    train = load_dataset(COMP).tables["train"]
    pairs = train.select("target", "generator").unique().sort("target")
    assert pairs["generator"].to_list() == generators["generator"].to_list()


def test_generators_really_differ_in_their_responses():
    train = load_dataset(COMP).tables["train"]
    per_question = train.group_by("Question").agg(pl.col("Response").n_unique().alias("distinct"))
    assert per_question["distinct"].mean() > 5  # most questions get mostly different answers
