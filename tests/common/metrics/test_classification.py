import math

import numpy as np
import pytest

from common.errors import UserError
from common.metrics import get_metric
from common.metrics.classification import multiclass_logloss, roc_auc


def test_auc_by_hand():
    # positives 0.8, 0.4; negatives 0.5, 0.1: pairs (0.8>0.5, 0.8>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
    assert roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.5, 0.1]) == pytest.approx(0.75)


def test_auc_ties_count_half():
    assert roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)


def test_auc_single_class_is_an_error_not_nan():
    with pytest.raises(UserError, match="one class"):
        roc_auc([1, 1, 1], [0.2, 0.3, 0.4])


def test_auc_nan_scores_rejected():
    with pytest.raises(UserError):
        roc_auc([0, 1], [0.1, float("nan")])


def test_logloss_by_hand():
    expected = -(math.log(0.9) + math.log(0.8)) / 2
    assert multiclass_logloss([0, 1], [[0.9, 0.1], [0.2, 0.8]]) == pytest.approx(expected)


def test_logloss_clips_zero_probability():
    # p(true) = 0 is replaced by 1e-15 after the row is rescaled, as Kaggle's pages say
    loss = multiclass_logloss([1], [[1.0, 0.0]])
    assert loss == pytest.approx(-math.log(1e-15))
    assert np.isfinite(loss)


def test_logloss_rescales_rows_before_clipping():
    # a row of tiny values is a distribution once rescaled: [1e-20, 0] -> [1, 0], true class 0
    assert multiclass_logloss([0], [[1e-20, 0.0]]) == pytest.approx(-math.log(1 - 1e-15))
    for bad, message in (([[0.0, 0.0]], "sums to 0"), ([[1.5, -0.5]], "negative")):
        with pytest.raises(UserError, match=message):
            multiclass_logloss([0], bad)


def test_logloss_renormalizes_rows():
    # [2, 2] becomes [0.5, 0.5]
    assert multiclass_logloss([0], [[2.0, 2.0]]) == pytest.approx(math.log(2))


def test_logloss_seven_classes_uniform():
    assert multiclass_logloss([3, 6], np.full((2, 7), 1 / 7)) == pytest.approx(math.log(7))
    assert not get_metric("multiclass_logloss").higher_is_better


def test_logloss_bad_shapes():
    with pytest.raises(UserError):
        multiclass_logloss([0, 1], [[0.5, 0.5]])
    with pytest.raises(UserError):
        multiclass_logloss([2], [[0.5, 0.5]])
