"""The shared fold loop carries text predictions (a prompt per row) as well as numbers."""
import numpy as np

from common.cv import FoldPlan, cross_validate


def test_text_predictions_come_back_out_of_fold_and_are_never_averaged():
    folds = FoldPlan(3, 0, "kfold").assign(9)
    out = cross_validate(lambda fit, held, k: ([f"fold {k}"] * len(held), [f"test {k}"]), folds, show_progress_bar=False)
    assert out.oof.dtype == object and list(out.oof) == [f"fold {k}" for k in folds]
    assert out.test is None and [list(t) for t in out.per_fold_test] == [["test 0"], ["test 1"], ["test 2"]]
    numeric = cross_validate(lambda fit, held, k: (np.full(len(held), k), np.array([k])), folds, show_progress_bar=False)
    assert numeric.oof.dtype == np.float64 and numeric.test.tolist() == [1.0]
