"""The boosted-tree head: the device's numpy walk of the flattened trees gives LightGBM's own raw
scores (NaNs included), and the fitted head is a kind the runtime reads, its power chosen on
out-of-fold probabilities (folds grouped by question)."""
import numpy as np
import pytest
from sklearn.model_selection import GroupKFold

from common.errors import UserError
from edge.lm_features.student import POWER_GRID, FeatureStudentConfig, _cross_entropy, fit_head
from edge.lm_features.trees import fit_boosters, flatten_boosters, tree_proba
from edge.runtime.lm_features import LmFeatureClassifier, balance, tree_scores


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
    cfg = FeatureStudentConfig(trees=40, leaves=7, power_folds=4)
    head = fit_head(x, soft, questions, cfg)
    assert head["kind"] == "gbdt" and head["power_folds"] == 4
    oof = np.zeros_like(soft)
    for train, held in GroupKFold(n_splits=4).split(x, groups=questions):
        oof[held] = tree_proba(x[held], flatten_boosters(fit_boosters(x[train], soft[train], cfg)))
    losses = {float(p): _cross_entropy(soft, balance(oof, questions, float(p))) for p in POWER_GRID}
    assert head["power"] == min(losses, key=losses.get)
    assert head["oof_cross_entropy"] == pytest.approx(losses[head["power"]], abs=1e-6)
    in_sample = _cross_entropy(soft, balance(tree_proba(x, head["trees"]), questions, head["power"]))
    assert in_sample < head["oof_cross_entropy"]                 # the held-out rows, not the fitted ones
    clf = LmFeatureClassifier.__new__(LmFeatureClassifier)
    clf.config = {"head": head}
    probs = clf.head_proba(x, questions)
    np.testing.assert_allclose(probs.sum(1), 1)
    assert (probs.argmax(1) == soft.argmax(1)).mean() > 0.8


def test_an_unknown_head_kind_is_a_user_error():
    with pytest.raises(UserError, match="head 'forest' is not one of gbdt, linear"):
        FeatureStudentConfig(head="forest")
