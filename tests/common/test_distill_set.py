"""The distill set a competition hands to `make edge`: validated on creation, scored with any
classifier metric in its direction, for texts or text pairs and any number of classes."""
import numpy as np
import pytest

from common.distill_set import DistillSet
from common.errors import UserError
from common.metrics import get_metric


def binary(**overrides) -> DistillSet:
    fields = dict(label_names=("human", "ai"), metric="roc_auc", positive_label="ai",
                  inputs=["a", "b", "c"], soft_labels=[[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]],
                  holdout_inputs=["x", "y", "z", "w"], holdout_labels=[0, 1, 1, 0],
                  holdout_teacher=[[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.9, 0.1]], teacher="t")
    return DistillSet(**(fields | overrides))


def seven_class_pairs(n: int = 20, m: int = 14, seed: int = 0) -> DistillSet:
    rng = np.random.default_rng(seed)
    names = tuple(f"model_{i}" for i in range(7))
    soft = rng.dirichlet(np.ones(7), size=n)
    teacher = rng.dirichlet(np.ones(7), size=m)
    return DistillSet(label_names=names, metric="multiclass_logloss",
                      inputs=[(f"question {i}", f"response {i}") for i in range(n)], soft_labels=soft,
                      holdout_inputs=[(f"held question {i}", f"held response {i}") for i in range(m)],
                      holdout_labels=np.arange(m) % 7, holdout_teacher=teacher, teacher="a 7-way teacher")


def test_binary_scores_the_positive_class_probability():
    ds = binary()
    assert ds.n_classes == 2 and ds.positive_index == 1 and not ds.pairs and ds.higher_is_better
    assert ds.teacher_score == pytest.approx(1.0)
    assert ds.score([[0.1, 0.9], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]]) == pytest.approx(0.0)
    assert binary(positive_label=None).positive_label == "ai"  # default: the last label


def test_seven_classes_of_pairs_scored_with_log_loss_where_lower_is_better():
    ds = seven_class_pairs()
    assert ds.pairs and ds.n_classes == 7 and ds.soft_labels.shape == (20, 7)
    assert not ds.higher_is_better
    assert ds.teacher_score == pytest.approx(get_metric("multiclass_logloss").fn(ds.holdout_labels, ds.holdout_teacher))
    perfect = np.eye(7)[ds.holdout_labels] * 0.94 + 0.01
    assert ds.score(perfect) < ds.teacher_score
    assert ds.shortfall(0.5, 0.7) == pytest.approx(0.2)  # worse by 0.2 log loss
    assert binary().shortfall(0.9, 0.95) == pytest.approx(-0.05)  # better by 0.05 AUC


def test_map_at_3_ranks_label_names_by_probability():
    ds = DistillSet(label_names=tuple("ABCDE"), metric="map@3", inputs=["q"], soft_labels=[[0.2] * 5],
                    holdout_inputs=["q1", "q2"], holdout_labels=[0, 3],
                    holdout_teacher=[[0.5, 0.2, 0.1, 0.1, 0.1], [0.1, 0.5, 0.1, 0.2, 0.1]], teacher="t")
    assert ds.teacher_score == pytest.approx((1 + 1 / 2) / 2)


@pytest.mark.parametrize("overrides, message", [
    ({"label_names": ("only",)}, "2 or more distinct label names"),
    ({"label_names": ("a", "a")}, "2 or more distinct label names"),
    ({"metric": "no_such_metric"}, "unknown metric"),
    ({"metric": "judge_score"}, "cannot score class probabilities"),
    ({"positive_label": "machine"}, "positive label 'machine' is not among"),
    ({"inputs": []}, "inputs: empty"),
    ({"inputs": ["a", ("b", "c"), "d"]}, "not a mix"),
    ({"holdout_inputs": [("x", "y")] * 4}, "both be texts or both be text pairs"),
    ({"soft_labels": [[0.5, 0.6], [0.2, 0.8], [0.5, 0.5]]}, "rows sum to 1"),
    ({"soft_labels": [[1.0], [1.0], [1.0]]}, r"soft_labels has shape \(3, 1\), want \(3, 2\)"),
    ({"holdout_teacher": [[0.5, 0.5]] * 3}, r"holdout_teacher has shape \(3, 2\), want \(4, 2\)"),
    ({"holdout_labels": [0, 1, 2, 0]}, "4 class indices in 0..1"),
    ({"holdout_labels": [0.0, 1.0, 1.0, 0.0]}, "class indices"),
])
def test_bad_sets_are_user_errors_that_name_the_problem(overrides, message):
    with pytest.raises(UserError, match=message):
        binary(**overrides)


def test_score_checks_the_shape_of_what_it_scores():
    with pytest.raises(UserError, match=r"shape \(4, 2\), got \(4,\)"):
        binary().score([0.1, 0.2, 0.3, 0.4])
