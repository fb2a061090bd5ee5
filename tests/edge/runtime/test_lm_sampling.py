"""A next token drawn instead of the argmax (edge/runtime/lm_sampling.py): the argmax when greedy,
the same draws for the same seed, top-k / top-p keep only what they say, the draws follow the
softmax, and the repetition penalty (CTRL's) and the n-gram ban spare the end-of-turn ids; each
against transformers' own processor."""
from __future__ import annotations

import numpy as np
import pytest

from edge.runtime.lm_sampling import Sampler


def test_the_default_is_the_argmax():
    logits = np.random.default_rng(0).normal(size=(20, 50))
    pick = Sampler()
    assert pick.greedy and [pick(row, []) for row in logits] == logits.argmax(axis=1).tolist()
    assert not Sampler(temperature=0.5).greedy and not Sampler(repetition_penalty=1.1).greedy


def test_the_same_seed_draws_the_same_tokens_and_another_seed_others():
    logits = np.zeros(100)                                           # uniform: every draw is free
    same = [Sampler(temperature=1.0, seed=7) for _ in range(2)]
    first = [same[0](logits, []) for _ in range(30)]
    assert first == [same[1](logits, []) for _ in range(30)] and all(0 <= t < 100 for t in first)
    other = Sampler(temperature=1.0, seed=8)
    assert first != [other(logits, []) for _ in range(30)]


def test_draws_follow_the_softmax_of_the_logits_over_the_temperature():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    pick = Sampler(temperature=1.0, seed=0)
    counts = np.bincount([pick(logits, []) for _ in range(4000)], minlength=4) / 4000
    np.testing.assert_allclose(counts, [0.5, 0.3, 0.15, 0.05], atol=0.03)
    hot = Sampler(temperature=2.0, seed=0)                             # p ** (1/2), renormalized
    counts = np.bincount([hot(logits, []) for _ in range(4000)], minlength=4) / 4000
    expected = np.sqrt([0.5, 0.3, 0.15, 0.05])
    np.testing.assert_allclose(counts, expected / expected.sum(), atol=0.03)


def test_top_k_and_top_p_draw_only_from_the_likeliest():
    logits = np.log(np.array([0.4, 0.3, 0.2, 0.1]))
    top2 = Sampler(temperature=1.0, top_k=2, seed=0)
    assert {top2(logits, []) for _ in range(300)} == {0, 1}
    nucleus = Sampler(temperature=1.0, top_p=0.5, seed=0)              # 0.4 < 0.5 <= 0.4 + 0.3: two tokens
    assert {nucleus(logits, []) for _ in range(300)} == {0, 1}
    assert {Sampler(temperature=1.0, top_p=0.4, seed=0)(logits, []) for _ in range(100)} == {0}
    assert {Sampler(temperature=1.0, top_k=1, seed=s)(logits, []) for s in range(20)} == {0}


def test_the_repetition_penalty_divides_positive_and_multiplies_negative_logits_of_seen_tokens():
    pick = Sampler(repetition_penalty=2.0)
    logits = np.array([3.0, 2.0, -1.0, 0.5])
    np.testing.assert_allclose(pick.penalized(logits, [0, 2, 0]), [1.5, 2.0, -2.0, 0.5])
    assert pick(logits, [0]) == 1                                      # 3 / 2 falls below 2
    spared = Sampler(repetition_penalty=2.0, spare=frozenset({0}))
    assert spared(logits, [0]) == 0                                    # an end-of-turn id is left alone
    assert logits.tolist() == [3.0, 2.0, -1.0, 0.5]                    # the caller's logits are not written
    with np.errstate(over="raise", invalid="raise"):                   # no overflow warning either
        huge = Sampler(temperature=1.0, repetition_penalty=1e308).probabilities(np.array([-5.0, 1.0, 2.0]), [0, 1])
    assert huge[0] == 0 and np.isclose(huge.sum(), 1)                  # a seen negative logit is never drawn
    with np.errstate(over="raise", invalid="raise"):                   # the smallest penalty: a seen logit grows 1e4x
        tiny = Sampler(temperature=1.0, repetition_penalty=1e-4).probabilities(np.array([30.0, 1.0]), [0])
    assert tiny[0] == 1 and np.isfinite(tiny).all()
    with pytest.raises(ValueError, match="below 0.0001, where dividing the logits overflows"):
        Sampler(temperature=1.0, repetition_penalty=1e-308)


def test_the_ngram_ban_looks_at_the_answer_and_spares_the_end_of_turn():
    logits = np.zeros(10)
    logits[[3, 4]] = 1.0, 0.5
    ban = Sampler(no_repeat_ngram=3, spare=frozenset({7}))
    assert not ban.greedy and ban.banned([1, 2, 3, 1, 2]) == {3}          # "1 2 3" is there: no 3 after "1 2"
    assert ban(logits, [3, 1, 2], [1, 2, 3, 1, 2]) == 4                  # banned: the next likeliest
    assert ban(logits, [1, 2, 3, 1, 2], []) == 3                         # a prompt's n-grams are free to repeat
    assert ban.banned([1, 2, 7, 1, 2]) == set()                          # an end-of-turn id is never banned
    assert Sampler(no_repeat_ngram=1).banned([5, 6, 5]) == {5, 6} and Sampler(no_repeat_ngram=3).banned([1, 2]) == set()


@pytest.mark.parametrize("seed", [0, 1])
def test_the_ngram_ban_bans_what_transformers_bans_in_an_answer(seed):
    import torch
    from transformers.generation.logits_process import NoRepeatNGramLogitsProcessor

    answer = np.random.default_rng(seed).integers(0, 6, size=60).tolist()   # a small vocabulary repeats often
    scores = NoRepeatNGramLogitsProcessor(3)(torch.tensor([answer]), torch.zeros(1, 6))[0].numpy()
    assert Sampler(no_repeat_ngram=3).banned(answer) == set(np.flatnonzero(np.isinf(scores)).tolist())


@pytest.mark.parametrize("kwargs, fragment", [
    ({"temperature": -0.1}, "--temperature must be 0 (greedy) or more"),
    ({"temperature": float("nan")}, "--temperature must be 0 (greedy) or more"),
    ({"temperature": 1e-320}, "is below 0.0001, where dividing the logits overflows: give 0 for greedy"),
    ({"top_p": 0.0}, "--top-p must be above 0 and at most 1"),
    ({"top_p": 1.5}, "--top-p must be above 0 and at most 1"),
    ({"top_k": -1}, "--top-k must be 0 (all tokens) or more"),
    ({"repetition_penalty": 0.0}, "--repetition-penalty must be above 0"),
    ({"seed": -1}, "--seed must be 0 or more"),
    ({"no_repeat_ngram": -2}, "--no-repeat-ngram must be 0 (no ban) or more"),
    ({"top_k": 40}, "shape a draw: give them with --temperature above 0"),
    ({"top_p": 0.9, "repetition_penalty": 1.2}, "shape a draw"),
    ({"seed": 3}, "shape a draw"),
])
def test_bad_settings_are_refused(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Sampler(**kwargs)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_penalty_top_k_and_top_p_keep_what_transformers_keeps(seed):
    import torch
    from transformers.generation.logits_process import (RepetitionPenaltyLogitsProcessor, TopKLogitsWarper,
                                                         TopPLogitsWarper)

    rng = np.random.default_rng(seed)
    logits, seen = rng.normal(scale=3, size=500), rng.integers(0, 500, size=40).tolist()
    ids, scores = torch.tensor([seen]), torch.tensor(logits[None], dtype=torch.float64)
    hf = RepetitionPenaltyLogitsProcessor(1.3)(ids, scores.clone())[0].numpy()
    np.testing.assert_allclose(Sampler(repetition_penalty=1.3).penalized(logits, seen), hf, atol=1e-12)

    def support(pick: Sampler) -> set[int]:       # every token a draw can reach
        return set(np.flatnonzero(pick.probabilities(logits, [])).tolist())

    hf_k = TopKLogitsWarper(top_k=25)(ids, scores.clone())[0].numpy()
    assert support(Sampler(temperature=1.0, top_k=25)) == set(np.flatnonzero(np.isfinite(hf_k)).tolist())
    hf_p = TopPLogitsWarper(top_p=0.8)(ids, scores.clone())[0].numpy()
    assert support(Sampler(temperature=1.0, top_p=0.8)) == set(np.flatnonzero(np.isfinite(hf_p)).tolist())
    probs = Sampler(temperature=0.7).probabilities(logits, [])
    np.testing.assert_allclose(probs, torch.softmax(torch.tensor(logits / 0.7), 0).numpy(), atol=1e-12)
