"""The costly teacher members on real models (slow: SmolLM2 scoring and a MiniLM fine-tune)."""
import numpy as np
import pytest

from common.metrics import get_metric
from competitions.detect_ai_text.lm_members import lm_features, lm_perplexity
from competitions.detect_ai_text.minilm_member import minilm_finetuned
from fakes.essays import essays

pytestmark = pytest.mark.slow


def test_lm_features_are_cached_and_separate_the_fixture():
    frame = essays(24, seed=11)
    texts, y = frame["text"].to_list(), frame["generated"].to_numpy()
    first = lm_features(texts, max_tokens=64, progress=False)
    assert first.shape == (24, 9) and np.isfinite(first).all()
    np.testing.assert_allclose(lm_features(texts, max_tokens=64, progress=False), first)
    # template "AI" text is far more predictable than the word salad: higher mean log-prob
    assert first[y == 1, 0].mean() > first[y == 0, 0].mean()
    scores = lm_perplexity(texts[:16], y[:16], texts[16:], max_tokens=64)
    assert get_metric("roc_auc").fn(y[16:], scores) > 0.8


def test_minilm_member_learns_and_caches(tmp_path):
    frame = essays(40, seed=12)
    texts, y = frame["text"].to_list(), frame["generated"].to_numpy()
    scores = minilm_finetuned(texts[:30], y[:30], texts[30:], seed=0)
    assert scores.shape == (10,) and get_metric("roc_auc").fn(y[30:], scores) > 0.8
    np.testing.assert_array_equal(minilm_finetuned(texts[:30], y[:30], texts[30:], seed=0), scores)
