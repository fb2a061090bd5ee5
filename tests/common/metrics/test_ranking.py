import pytest

from common.errors import UserError
from common.metrics import get_metric
from common.metrics.ranking import map_at_k


@pytest.mark.parametrize("prediction, expected", [
    ("A B C", 1.0),
    ("B A C", 0.5),
    ("B C A", 1 / 3),
    ("B C D", 0.0),
    ("B C D A", 0.0),      # only the first three count
    ("A A B", 1.0),        # a repeat counts once, not 1 + 1/2
    ("B B A", 1 / 3),      # repeats keep their positions
])
def test_single_row_scores(prediction, expected):
    assert map_at_k(["A"], [prediction]) == pytest.approx(expected)


def test_mean_over_rows_by_hand():
    # 1 + 1/2 + 0 + 1/3 over 4 rows
    score = get_metric("map@3").fn(["A", "B", "C", "D"], ["A B C", "A B C", "A B E", "A B D"])
    assert score == pytest.approx((1 + 0.5 + 0 + 1 / 3) / 4)


def test_higher_is_better():
    metric = get_metric("map@3")
    assert metric.better(0.6, 0.5) and not metric.better(0.5, 0.6)


def test_length_mismatch_and_empty_are_errors():
    with pytest.raises(UserError):
        map_at_k(["A"], ["A B C", "B"])
    with pytest.raises(UserError):
        map_at_k(["A"], [""])
    with pytest.raises(UserError):
        map_at_k([], [])
