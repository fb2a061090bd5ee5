"""The shared fold loop: held-out rows are never fit on, test predictions average the fold
models, and scores follow the metric's direction."""
import numpy as np
import pytest

from common.cv import best_variant, cross_validate, score_folds, selection_score
from common.folds import FoldPlan
from common.solution import CvScore


def test_every_row_is_predicted_by_the_model_that_did_not_fit_it():
    folds = FoldPlan(4, seed=0).assign(20)
    seen = []

    def fit_predict(fit_rows, held_rows, fold):
        assert not set(fit_rows) & set(held_rows)
        assert set(fit_rows) | set(held_rows) == set(range(20))
        seen.append(fold)
        return held_rows * 10.0 + fold, np.full(3, float(fold))   # remembers who predicted what

    out = cross_validate(fit_predict, folds, show_progress_bar=False)
    assert seen == [0, 1, 2, 3]
    np.testing.assert_array_equal(out.oof, np.arange(20) * 10.0 + folds)
    np.testing.assert_allclose(out.test, np.full(3, 1.5))            # mean of the 4 fold models
    assert len(out.per_fold_test) == 4


def test_multiclass_predictions_and_no_test():
    folds = FoldPlan(2, seed=0).assign(6)
    out = cross_validate(lambda fit, held, k: (np.ones((len(held), 7)) / 7, None), folds,
                         show_progress_bar=False)
    assert out.oof.shape == (6, 7) and out.test is None


def test_test_transform_is_applied_per_fold_before_the_mean():
    folds = FoldPlan(2, seed=0).assign(4)
    out = cross_validate(lambda fit, held, k: (np.zeros(len(held)), np.array([1.0, 3.0]) * (k + 1)), folds,
                         test_transform=lambda p: p / p.max(), show_progress_bar=False)
    np.testing.assert_allclose(out.test, [1 / 3, 1.0])


def test_score_folds_is_the_mean_and_spread_of_per_fold_scores():
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    pred = np.array([0.1, 0.9, 0.2, 0.8, 0.9, 0.1, 0.3, 0.7])   # fold 0 AUC 1, fold 1 AUC 0.25
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    score = score_folds("roc_auc", y, pred, folds, note="n", kind="holdout")
    assert score.folds == 2 and score.kind == "holdout" and score.note == "n"
    assert score.mean == pytest.approx(0.625) and score.std == pytest.approx(0.375)


def test_best_variant_follows_the_metric_direction():
    scores = {"a": CvScore(0.9), "b": CvScore(0.5)}
    assert best_variant(scores, "roc_auc") == "a"
    assert best_variant(scores, "multiclass_logloss") == "b"
    assert best_variant(scores, "roc_auc", among=["b"]) == "b"


def test_unknown_validation_kind_is_refused():
    with pytest.raises(ValueError, match="unknown validation kind"):
        CvScore(0.5, kind="train")


def test_selection_score_picks_on_the_other_folds_and_scores_the_held_fold():
    scores = {"a": CvScore(0.5, per_fold=(0.9, 0.3, 0.3)), "b": CvScore(0.45, per_fold=(0.5, 0.45, 0.4)),
              "c": CvScore(0.1, per_fold=(0.1, 0.1, 0.1))}
    selection = selection_score(scores, "map@3", ["a", "b", "c"])
    # fold 0: others' means a 0.3, b 0.425 -> b (0.5); fold 1: a 0.6 -> a (0.3); fold 2: a 0.6 -> a (0.3)
    assert selection.picks == ["b", "a", "a"]
    assert selection.score.per_fold == (0.5, 0.3, 0.3) and selection.score.mean == pytest.approx(1.1 / 3)
    assert selection.score.mean < scores["a"].mean           # the winner's own CV reads high
    lower = selection_score({"x": CvScore(0.25, per_fold=(0.1, 0.4)), "y": CvScore(0.25, per_fold=(0.2, 0.3))},
                            "multiclass_logloss", ["x", "y"])
    assert lower.picks == ["y", "x"] and lower.score.per_fold == (0.2, 0.4)     # lower is better
    assert selection_score(scores, "map@3", ["a"]) is None                          # nothing to choose
    assert selection_score({**scores, "d": CvScore(0.2)}, "map@3", ["a", "d"]) is None   # no per-fold scores


def test_score_folds_keeps_each_folds_score():
    folds = np.array([0, 0, 1, 1])
    score = score_folds("roc_auc", np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.2, 0.8]), folds)
    assert score.per_fold == (1.0, 0.0) and score.mean == 0.5
