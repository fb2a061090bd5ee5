"""The predict-the-llm solution end to end on a tiny slice of the sample: group folds, every
variant scored on held-out questions, a checked submission, and the same numbers twice."""
import numpy as np
import polars as pl
import pytest

from cli.main import main
from common.cv import FoldPlan
from common.data import load_dataset
from common.registry import get_competition
from common.solution import RunContext
from competitions.predict_the_llm.inputs import Pairs
from competitions.predict_the_llm.style_features import group_relative, lm_features, text_features
from competitions.predict_the_llm.tfidf_member import tfidf_linear
from competitions.predict_the_llm.config import PredictConfig
from predict_llm_slice import write_slice

COMP = get_competition("predict-the-llm")


def test_folds_keep_a_questions_responses_together():
    train = load_dataset(COMP).tables["train"]
    ctx = RunContext(COMP, load_dataset(COMP), seed=42)
    folds = ctx.fold_ids()
    assert ctx.n_folds == 5 and len(np.unique(folds)) == 5
    per_question = pl.DataFrame({"q": train["Question"], "fold": folds}).group_by("q").agg(pl.col("fold").n_unique())
    assert (per_question["fold"] == 1).all()


def test_members_never_fit_on_held_out_questions(tmp_path, monkeypatch):
    pairs = Pairs.from_frames(*(load_dataset(COMP, write_slice(tmp_path, 6, 1)).tables[t] for t in ("train", "test")))
    folds = FoldPlan(3, 0, "group").assign(pairs.n_train, groups=pairs.train_q)
    seen = []
    from sklearn.linear_model import LogisticRegression

    original = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", lambda self, x, y: seen.append(x.shape[0]) or original(self, x, y))
    out = tfidf_linear(pairs, PredictConfig(), folds, seed=0, progress=False)
    assert seen == [int((folds != k).sum()) for k in range(3)]
    assert out.oof.shape == (pairs.n_train, 7) and out.test.shape == (7, 7)
    assert np.allclose(out.oof.sum(1), 1)


def test_style_features_are_named_and_group_relative():
    feats = text_features("Is the sky blue?", "Arr, the sky be blue, matey! Aye, blue it is.")
    assert feats["rate_exclaim"] > 0 and feats["sentences"] == 2 and 0 < feats["in_question"] < 1
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 0.0]])
    assert np.allclose(group_relative(x, ["a", "a", "b"]), [[-1, 0], [1, 0], [0, 0]])
    stats = np.array([[-0.1, 1.0, 0], [-2.0, 3.0, 4], [-0.5, 2.0, 0]], dtype=np.float32)
    row = lm_features(stats)
    assert row[8] == pytest.approx(2 / 3)         # top1_rate: two of three tokens were the LM's first choice
    assert np.isnan(lm_features(np.zeros((0, 3)))).all() and len(lm_features(np.zeros((0, 3)))) == len(row)
    empty = text_features("Is the sky blue?", "")        # an empty response: nothing ends, nothing is counted
    assert set(empty.values()) == {0.0}
    with_gap = np.array([[1.0, np.nan], [3.0, 4.0], [5.0, 2.0]])   # a missing value stays out of its group's mean
    assert np.allclose(group_relative(with_gap, ["a", "a", "a"]), [[-2, np.nan], [0, 1], [2, -1]], equal_nan=True)


def _submit(tmp_path, folder, *extra):
    out = tmp_path / "sub.csv"
    code = main(["submit", "--comp", "predict-the-llm", "--data", str(folder), "--folds", "2",
                 "--set", "members=tfidf_linear,style_lgbm", "--set", "lgbm_rounds=30", *extra, "--out", str(out)])
    assert code == 0
    return pl.read_csv(out)


def test_submit_on_a_tiny_slice_writes_checked_probabilities_and_records_every_variant(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=8, test_questions=2)
    sub = _submit(tmp_path, folder, "--set", "lm=")
    assert sub.columns == ["id", *(f"target_{i}" for i in range(7))] and sub.height == 14
    assert np.allclose(sub.drop("id").to_numpy().sum(1), 1) and sub.drop("id").to_numpy().min() > 0
    out = capsys.readouterr().out
    for variant in ("tfidf_linear", "style_lgbm", "ensemble", "ensemble_assigned", "ensemble_balanced", "<- submitted"):
        assert variant in out
    runs = [line for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines() if line]
    assert len(runs) == 5
    again = _submit(tmp_path, folder, "--set", "lm=")
    np.testing.assert_array_equal(sub.drop("id").to_numpy(), again.drop("id").to_numpy())


@pytest.mark.slow
def test_submit_with_lm_features_on_a_tiny_slice(tmp_path):
    """style_lgbm with SmolLM2's token statistics (~1 min on 2 cores the first time, then cached)."""
    folder = write_slice(tmp_path / "data", train_questions=8, test_questions=2)
    sub = _submit(tmp_path, folder)
    assert sub.height == 14 and np.allclose(sub.drop("id").to_numpy().sum(1), 1)


def test_fast_run_keeps_fast_train_questions_with_all_their_responses(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=10, test_questions=2)
    sub = _submit(tmp_path, folder, "--set", "lm=", "--fast", "--set", "fast_train=6")
    assert sub.height == 14
    out = capsys.readouterr().out
    assert "--fast: 6 of 10 train questions, 42 responses (fast_train; seed 42)" in out
    assert "ensemble_balanced" in out        # whole questions keep the one-answer-per-target structure
    _submit(tmp_path, folder, "--set", "lm=", "--set", "fast_train=6")
    assert "fast_train applies to --fast runs only" in capsys.readouterr().out


def test_fast_train_below_two_questions_a_fold_is_one_line(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=10, test_questions=2)
    code = main(["submit", "--comp", "predict-the-llm", "--data", str(folder), "--fast", "--set", "lm=",
                 "--set", "fast_train=3", "--out", str(tmp_path / "sub.csv")])
    assert code != 0 and "fast_train 3 leaves fewer than 2 questions a fold" in capsys.readouterr().err
