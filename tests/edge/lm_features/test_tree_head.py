"""The boosted-tree head: the device's numpy walk of the flattened trees gives LightGBM's own raw
scores (NaNs included), and the fitted head is a kind the runtime reads, its power chosen out of fold."""
import numpy as np
import pytest

from common.errors import UserError
from edge.lm_features.student import FeatureStudentConfig, fit_head
from edge.lm_features.trees import fit_boosters, flatten_boosters, tree_proba
from edge.runtime.lm_features import LmFeatureClassifier, tree_scores


def data(n=120, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    logits = x[:, :k] * 2 + rng.normal(scale=0.3, size=(n, k))
    soft = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return x, soft


def test_the_numpy_walk_equals_lightgbm_raw_scores_with_nans():
    x, soft = data()
    x[::7, 2] = np.nan                                      # a feature with missing values in training
    cfg = FeatureStudentConfig(trees=30, leaves=7)
    boosters = fit_boosters(x, soft, cfg)
    trees = flatten_boosters(boosters)
    probe = np.vstack([x[:20], np.full((1, x.shape[1]), np.nan)])     # an all-NaN row too
    want = np.stack([b.predict(probe, raw_score=True) for b in boosters], axis=1)
    np.testing.assert_allclose(tree_scores(probe, trees), want, atol=1e-9)
    assert len(trees["roots"]) == 3 * 30 and set(trees["tree_class"]) == {0, 1, 2}
    np.testing.assert_allclose(tree_proba(probe, trees).sum(1), 1)


def test_the_fitted_head_runs_in_the_runtime_and_learns_the_soft_labels():
    x, soft = data(seed=1)
    questions = [f"q{i // 4}" for i in range(len(x))]      # 4 answers to a question: no balancing
    head = fit_head(x, soft, questions, FeatureStudentConfig(trees=40, leaves=7, power_folds=4))
    assert head["kind"] == "gbdt" and head["power_folds"] == 4 and head["power"] > 0
    clf = LmFeatureClassifier.__new__(LmFeatureClassifier)
    clf.config = {"head": head}
    probs = clf.head_proba(x, questions)
    np.testing.assert_allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == soft.argmax(1)).mean() > 0.8


def test_an_unknown_head_kind_is_a_user_error():
    with pytest.raises(UserError, match="head 'forest' is not one of gbdt, linear"):
        FeatureStudentConfig(head="forest")
