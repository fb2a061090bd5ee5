"""The detect-ai-text teacher: CV only scores held-out rows, the held-out-generator split leaves a
generator out of train, and `run` gives one probability per test essay."""
import numpy as np
import polars as pl
import pytest

from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from common.solution import RunContext
from competitions.detect_ai_text.cv import cross_validate, fold_ids
from competitions.detect_ai_text.heldout import heldout_generator_scores, heldout_prompt_scores
from competitions.detect_ai_text.lm_members import FEATURE_NAMES, summarize
from competitions.detect_ai_text.members import Member, select_members
from competitions.detect_ai_text.solution import DetectConfig, labels, run
from fakes.essays import essays, write_essays


class Recorder:
    """A member that remembers what it was fit on and scores texts by a keyword."""

    def __init__(self):
        self.calls = []

    def __call__(self, train_texts, y, pred_texts, seed=42):
        self.calls.append((list(train_texts), list(pred_texts)))
        return np.array([1.0 if "Furthermore" in t or "Moreover" in t or "important" in t else 0.0
                         for t in pred_texts]) + np.arange(len(pred_texts)) * 1e-6


def test_fold_ids_refuses_too_few_of_a_class():
    with pytest.raises(UserError, match="at least 3"):
        fold_ids(np.array([0, 0, 0, 0, 1, 1]), 3, seed=0)


def test_cross_validation_never_fits_on_held_out_texts():
    frame = essays(30, seed=3)
    texts, y = frame["text"].to_list(), frame["generated"].to_numpy()
    recorder = Recorder()
    out = cross_validate([Member("rec", recorder)], texts, y, ["test one", "test two"], folds=3, seed=0)
    assert len(recorder.calls) == 3
    for (fit, pred), fold in zip(recorder.calls, range(3)):
        held = [texts[i] for i in np.flatnonzero(out.folds == fold)]
        assert not set(fit) & set(held)
        assert pred == held + ["test one", "test two"]
    assert out.scores["rec"].folds == 3 and out.scores["ensemble"].mean > 0.9
    assert out.other["ensemble"].shape == (2,)


def test_heldout_generator_split_leaves_the_generator_out_of_train():
    frame = essays(36, seed=4)
    texts, y, gens = frame["text"].to_list(), frame["generated"].to_numpy(), frame["generator"].to_list()
    recorder = Recorder()
    scores = heldout_generator_scores([Member("rec", recorder)], texts, y, gens, seed=0)
    assert set(scores) == {"heldout_generator/rec", "heldout_generator/ensemble"}
    assert scores["heldout_generator/rec"].folds == 3
    by_text = dict(zip(texts, gens))
    for fit, pred in recorder.calls:
        left_out = {by_text[t] for t in pred} - {"human"}
        assert len(left_out) == 1
        assert not left_out & {by_text[t] for t in fit}
        assert not set(fit) & set(pred)


def test_heldout_prompt_split_never_fits_on_a_held_out_prompt():
    frame = essays(40, seed=5)
    texts, y = frame["text"].to_list(), frame["generated"].to_numpy()
    prompts = [i % 8 for i in range(len(texts))]
    recorder = Recorder()
    scores = heldout_prompt_scores([Member("rec", recorder)], texts, y, prompts, folds=4, seed=0)
    assert set(scores) == {"heldout_prompt/rec", "heldout_prompt/ensemble"}
    assert scores["heldout_prompt/rec"].folds == len(recorder.calls) == 4 and scores["heldout_prompt/rec"].kind == "holdout"
    prompt_of = dict(zip(texts, prompts))
    for fit, pred in recorder.calls:
        assert not {prompt_of[t] for t in fit} & {prompt_of[t] for t in pred}
    assert heldout_prompt_scores([Member("rec", Recorder())], texts, y, [0] * len(texts), folds=4) == {}   # one prompt


def test_summarize_token_logprobs():
    row = dict(zip(FEATURE_NAMES, summarize([-1.0, -2.0, -3.0])))
    assert row["mean"] == pytest.approx(-2.0) and row["log_ppl"] == pytest.approx(2.0)
    assert row["p50"] == pytest.approx(-2.0) and row["log_tokens"] == pytest.approx(np.log(3))
    assert summarize([]) == [0.0] * len(FEATURE_NAMES)


def test_select_members_rejects_unknown_and_fast_drops_costly():
    with pytest.raises(UserError, match="members: unknown"):
        select_members("tfidf_linear,nope")
    assert [m.name for m in select_members(fast=True)] == ["tfidf_linear", "tfidf_lgbm"]   # no LM pass in --fast
    assert [m.name for m in select_members("lm_perplexity", fast=True)] == ["lm_perplexity"]   # unless named


def _ctx(tmp_path, **options):
    comp = get_competition("detect-ai-text")
    data = load_dataset(comp, write_essays(tmp_path / "data", n_train=48, n_test=10))
    return RunContext(comp, data, seed=0, folds=3, options=options)


def test_run_predicts_every_test_essay_and_scores_held_out_rows(tmp_path):
    result = run(_ctx(tmp_path, members="tfidf_linear"))
    sub = result.submission
    assert sub.columns == ["id", "generated"] and sub.height == 10
    assert sub["generated"].min() >= 0 and sub["generated"].max() <= 1
    assert result.best == "ensemble"
    assert {"tfidf_linear", "ensemble", "heldout_generator/ensemble"} <= set(result.cv)
    assert result.cv["ensemble"].mean > 0.9  # the fixture's template texts are easy to spot
    test = essays(10, seed=1)  # write_essays made the test split from seed + 1
    ai = sub.join(test.select("id", "generated").rename({"generated": "truth"}), on="id")
    assert ai.filter(pl.col("truth") == 1)["generated"].mean() > ai.filter(pl.col("truth") == 0)["generated"].mean()


def test_run_rejects_an_empty_text(tmp_path):
    ctx = _ctx(tmp_path, members="tfidf_linear")
    train = ctx.data.tables["train"]
    ctx.data.tables["train"] = train.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(pl.lit(" "))
                                                  .otherwise(pl.col("text")).alias("text"))
    with pytest.raises(UserError, match="row 3 has an empty text"):
        run(ctx)


@pytest.mark.parametrize("value, said", [(None, "row 2 has generated blank"), (2, "row 2 has generated 2")])
def test_a_label_other_than_0_or_1_is_named_by_its_row(value, said):
    frame = pl.DataFrame({"generated": [0, value, 1]})
    with pytest.raises(UserError, match=f"train_essays.csv: {said}: it must hold only 0 and 1"):
        labels(frame)
    assert labels(pl.DataFrame({"generated": [0, 1, 1]})).tolist() == [0, 1, 1]


def test_submit_command_writes_a_checked_submission_and_records(tmp_path, capsys):
    from cli.main import main

    folder = write_essays(tmp_path / "data", n_train=48, n_test=10)
    code = main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--folds", "3",
                 "--set", "members=tfidf_linear", "--out", str(tmp_path / "sub.csv")])
    assert code == 0
    sub = pl.read_csv(tmp_path / "sub.csv")
    assert sub.height == 10 and sub.columns == ["id", "generated"]
    out = capsys.readouterr().out
    assert "heldout_generator/ensemble" in out and "<- submitted" in out


def test_a_class_with_under_two_essays_a_fold_is_warned_about_as_noise(capsys):
    from competitions.detect_ai_text.solution import warn_few_per_fold

    warn_few_per_fold(np.array([1, 1, 1] + [0] * 200), folds=3, extra=False)        # the real train, --fast's 3 folds
    err = capsys.readouterr().err
    assert err.startswith("warning: 3 generated essays for 3 folds: each fold's AUC rests on 1 of them")
    assert "--set extra_train=FILE" in err
    warn_few_per_fold(np.array([1] * 7 + [0] * 200), folds=5, extra=True)
    assert "rests on 1-2 of them, so the CV below is mostly noise\n" in capsys.readouterr().err   # no hint: extra given
    warn_few_per_fold(np.array([1] * 10 + [0] * 200), folds=5, extra=True)
    assert capsys.readouterr().err == ""


def test_submit_writes_a_members_test_scores_and_refuses_one_not_in_the_run(tmp_path):
    with pytest.raises(UserError, match="submit: no variant 'tfidf_lgbm' in this run; variants: tfidf_linear, ensemble"):
        _ctx(tmp_path, members="tfidf_linear", submit="tfidf_lgbm").config(DetectConfig)
    both = run(_ctx(tmp_path, members="tfidf_linear,tfidf_lgbm", heldout="0"))
    linear = run(_ctx(tmp_path, members="tfidf_linear,tfidf_lgbm", heldout="0", submit="tfidf_linear"))
    assert (both.best, linear.best) == ("ensemble", "tfidf_linear") and both.cv.keys() == linear.cv.keys()
    alone = run(_ctx(tmp_path, members="tfidf_linear", heldout="0"))      # one member: ranks of its scores
    assert not np.allclose(linear.submission["generated"], both.submission["generated"])
    assert np.argsort(linear.submission["generated"].to_numpy()).tolist() == \
        np.argsort(alone.submission["generated"].to_numpy()).tolist()
    fast = _ctx(tmp_path, heldout="0", submit="lm_perplexity")
    fast.fast = True                                       # --fast leaves the LM member out
    with pytest.raises(UserError, match=r"submit: lm_perplexity did not run \(--fast runs tfidf_linear, tfidf_lgbm\)"):
        run(fast)
