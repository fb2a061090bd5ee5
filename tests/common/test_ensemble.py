import numpy as np
import pytest

from common.ensemble import choose_weight, nested_weight_blend, rank_average, row_ranks, score_rank_average


def test_row_ranks_scale_to_unit_interval_and_share_ties():
    ranks = row_ranks(np.array([[3.0, 1.0, 2.0], [5.0, 5.0, 0.0]]))
    assert ranks.tolist() == [[1.0, 0.0, 0.5], [0.75, 0.75, 0.0]]


def test_rank_average_ignores_score_scale():
    logits = np.array([[100.0, 0.0, -100.0]])          # huge scale
    logprobs = np.array([[-3.0, -1.0, -2.0]])          # small scale, different order
    blend = rank_average([logits, logprobs], [0.5, 0.5])
    # ranks: option0 (1 + 0)/2, option1 (0.5 + 1)/2, option2 (0 + 0.5)/2
    assert np.argsort(-blend[0]).tolist() == [1, 0, 2]


def test_rank_average_with_all_weight_on_one_member_keeps_its_order():
    a = np.array([[0.1, 0.9, 0.5]])
    b = np.array([[0.9, 0.1, 0.5]])
    assert np.argsort(-rank_average([a, b], [1.0, 0.0])[0]).tolist() == [1, 2, 0]


def test_rank_average_rejects_bad_weights():
    with pytest.raises(ValueError):
        rank_average([np.zeros((1, 3))], [0.0])


def test_choose_weight_picks_the_member_that_is_right():
    labels = np.array([0, 1, 2, 0])
    good = np.eye(3)[labels] + 0.01                    # always right
    bad = np.eye(3)[(labels + 1) % 3]                  # always wrong
    accuracy = lambda y, s: float(np.mean(np.argmax(s, axis=1) == y))
    assert choose_weight(good, bad, labels, accuracy) >= 0.6
    assert choose_weight(bad, good, labels, accuracy) <= 0.4


def test_score_rank_average_is_mean_of_scaled_ranks():
    out = score_rank_average([np.array([0.1, 0.9, 0.5]), np.array([3.0, 1.0, 2.0])])
    np.testing.assert_allclose(out, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(score_rank_average([np.array([5.0, 1.0, 3.0])]), [1.0, 0.0, 0.5])


def test_nested_weights_never_see_the_scored_fold():
    """Fold k's weight is chosen on the other folds only: scrambling fold k's labels leaves it."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 60)
    good = np.eye(5)[labels] + rng.normal(scale=0.8, size=(60, 5))
    other = np.eye(5)[labels] + rng.normal(scale=1.2, size=(60, 5))
    folds = np.repeat([0, 1, 2], 20)
    score = lambda y, s: float(np.mean(np.argmax(s, axis=1) == y))   # noqa: E731
    blend, weights = nested_weight_blend(good, other, labels, folds, score)
    for k in range(3):
        inner = folds != k
        assert weights[k] == choose_weight(good[inner], other[inner], labels[inner], score)
        scrambled = labels.copy()
        scrambled[folds == k] = (labels[folds == k] + 1) % 5
        assert nested_weight_blend(good, other, scrambled, folds, score)[1][k] == weights[k]
        np.testing.assert_allclose(blend[folds == k], rank_average([good[folds == k], other[folds == k]],
                                                                   [weights[k], 1 - weights[k]]))
