import numpy as np
import pytest

from common.errors import UserError
from common.metrics.similarity import describe_encoder, sharpened_cosine

VECTORS = {"a": [1.0, 0.0], "b": [0.0, 1.0], "c": [1.0, 1.0], "d": [-1.0, 0.0]}


def encode(texts):
    return np.array([VECTORS[t] for t in texts])


def test_identical_texts_score_one():
    assert sharpened_cosine(["a"], ["a"], encode=encode) == pytest.approx(1.0)


def test_cube_by_hand():
    # cos(c, a) = 1/sqrt(2) -> cubed 0.35355; cos(a, b) = 0 -> 0; mean 0.17678
    score = sharpened_cosine(["a", "a"], ["c", "b"], encode=encode)
    assert score == pytest.approx((2 ** -0.5) ** 3 / 2)


def test_negative_cosine_stays_negative():
    assert sharpened_cosine(["a"], ["d"], encode=encode) == pytest.approx(-1.0)


def test_empty_prediction_is_an_error():
    with pytest.raises(UserError, match="empty"):
        sharpened_cosine(["a"], ["  "], encode=encode)


def test_score_names_its_encoder():
    assert "encoder=minilm" in describe_encoder("minilm")
    assert "not comparable" in describe_encoder("minilm")
