"""The detect-ai-text edge spec's options: its own dataclass, so a bad or unknown one is refused
before the teacher runs."""
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from competitions.detect_ai_text.edge import EdgeOptions, spec


@pytest.mark.parametrize("options, fragment", [
    ({"latency_rounds": "0"}, r"unknown detect-ai-text edge option\(s\) latency_rounds; known: extra_train, folds, holdout, members"),
    ({"folds": "x"}, "folds='x': expected int"), ({"folds": "1"}, "folds must be at least 2"),
    ({"holdout": "1"}, "0 < holdout < 1"), ({"members": "nope"}, "members: unknown")])
def test_bad_edge_options_are_refused(options, fragment):
    data = load_dataset(get_competition("detect-ai-text"))
    with pytest.raises(UserError, match=fragment):
        spec(data, options=options)


def test_the_defaults_are_the_documented_ones():
    assert EdgeOptions() == EdgeOptions(members="", folds=3, holdout=0.2)


def test_kaggle_like_train_is_refused_with_the_hint_and_trains_with_extra_rows(tmp_path, monkeypatch):
    import polars as pl

    from fakes.essays import essays, kaggle_like_folder

    folder = kaggle_like_folder(tmp_path / "data")
    data = load_dataset(get_competition("detect-ai-text"), folder)
    with pytest.raises(UserError, match="the teacher's 80% of train has 2 generated and 24 human essays.*extra_train=FILE"):
        spec(data, options={"members": "tfidf_linear"})
    essays(40, seed=5).filter(pl.col("generated") == 1).select("text", "generated").write_csv(folder / "train_extra.csv")
    ds = spec(data, options={"members": "tfidf_linear"})
    assert ds.info["extra_train"] == str(folder / "train_extra.csv")
    assert len(ds.holdout_inputs) + ds.info["distill_texts"]["train_oof"] == 33 + 20
