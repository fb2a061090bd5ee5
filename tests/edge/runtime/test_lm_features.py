"""The device's feature classifier (edge/runtime/lm_features.py) without an LM: its text and LM
measures, the per-question features, the Sinkhorn balancing and the head, on a fake stats_fn."""
import numpy as np
import pytest

from edge.runtime.lm_features import (FEATURE_NAMES, LM_NAMES, TEXT_NAMES, LmFeatureClassifier, balance,
                                      lm_measures, relative_to_question, text_measures)


def test_text_measures_name_what_they_count():
    values = dict(zip(TEXT_NAMES, text_measures("Is the sky blue?", "Yes! The sky is blue, I think.\n- really")))
    assert values["sentences"] == 2 and values["ends_sentence"] == 0.0 and values["lines"] == 2
    assert values["list_lines"] == 1 and values["first_person"] == pytest.approx(1 / 8)
    assert values["in_question"] == pytest.approx(4 / 8)        # the, sky, is, blue
    assert len(text_measures("q", "")) == len(TEXT_NAMES)


def test_lm_measures_of_a_greedy_looking_response():
    stats = np.array([[-0.1, 0.5, 0], [-0.2, 0.4, 0], [-3.0, 2.0, 7]])
    values = dict(zip(LM_NAMES, lm_measures(stats)))
    assert values["top1_rate"] == pytest.approx(2 / 3) and values["top5_rate"] == pytest.approx(2 / 3)
    assert values["lp_mean"] == pytest.approx(-1.1) and values["log_tokens"] == pytest.approx(np.log(3))
    assert lm_measures(np.zeros((0, 3))) == [0.0] * len(LM_NAMES)


def test_features_are_relative_to_the_other_answers_of_the_same_question():
    x = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 10.0]])
    np.testing.assert_allclose(relative_to_question(x, ["a", "a", "b"]), [[-1, -1], [1, 1], [0, 0]])


def test_balance_makes_a_complete_question_doubly_stochastic_and_leaves_others_alone():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=5)
    out = balance(probs, ["a", "a", "a", "b", "b"], power=1.5)
    np.testing.assert_allclose(out[:3].sum(axis=0), 1, atol=1e-6)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-9)
    sharpened = probs[3:] ** 1.5
    np.testing.assert_allclose(out[3:], sharpened / sharpened.sum(axis=1, keepdims=True))


def test_classifier_summarizes_only_the_response_tokens_and_applies_the_head(minilm_tokenizer):
    seen = []

    def fake_stats(ids, start=0):   # every position from start on: logprob -1, entropy 2, rank 0
        seen.append((len(ids), start))
        return np.tile([-1.0, 2.0, 0.0], (len(ids) - 1 - start, 1))

    n, k = len(FEATURE_NAMES), 2
    config = {"labels": ["x", "y"], "feature_names": list(FEATURE_NAMES), "prompt_prefix": "[Q] ",
              "prompt_suffix": " [A]", "max_prompt_tokens": 4, "max_response_tokens": 3,
              "head": {"mean": [0.0] * n, "scale": [1.0] * n, "weight": np.zeros((n, k)).tolist(),
                       "bias": [0.0, np.log(3)], "power": 1.0, "clip": 0.001}}
    clf = LmFeatureClassifier(config, minilm_tokenizer / "tokenizer.json", stats_fn=fake_stats)
    stats = clf.token_stats("a long question with many many words", "one two three four five")
    assert stats.shape == (3, 3) and seen == [(4 + 3, 3)]     # prompt cut to its last 4, response to 3
    np.testing.assert_allclose(clf.predict_proba([("q", "r")]), [[0.25, 0.75]])
    x = clf.features([("q", "one two"), ("q", "one two three")])
    assert x.shape == (2, n) and x[0, FEATURE_NAMES.index("log_tokens_vs_question")] < 0
