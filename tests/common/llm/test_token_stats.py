"""Per-token statistics of a response given its prompt: a greedy continuation is the LM's first
choice at every token, batching does not change the numbers, and results are cached."""
import numpy as np
import pytest

from common.errors import UserError
from common.llm.generation import GenerationConfig, generate
from common.llm import token_stats
from common.llm.token_stats import STAT_NAMES, response_token_stats

PROMPT = "Name a colour of the sky."


def _no_model(name):
    raise AssertionError(f"the cache was missed: {name} was loaded")


def test_a_greedy_response_is_the_lms_first_choice_at_every_token(own_cache, monkeypatch):
    greedy = generate("smollm2", [PROMPT], GenerationConfig(max_new_tokens=12), progress=False)[0]
    odd = "Purple elephants compose sonatas beneath quantum marmalade."
    stats = response_token_stats("smollm2", [PROMPT, PROMPT], [greedy, odd], batch_size=2, progress=False)
    assert len(STAT_NAMES) == 3 and all(s.shape[1] == 3 for s in stats)
    lp, entropy, rank = stats[0].T
    assert (rank == 0).mean() >= 0.9            # re-tokenizing the stripped text may split one token differently
    assert np.all(lp <= 0) and np.all(entropy >= 0)
    assert stats[1][:, 0].mean() < lp.mean() - 2 and (stats[1][:, 2] == 0).mean() < 0.5
    alone = response_token_stats("smollm2", [PROMPT], [odd], batch_size=1, cache=False, progress=False)[0]
    np.testing.assert_allclose(alone, stats[1], atol=2e-3)          # padding in a batch moves nothing
    with monkeypatch.context() as patched:                          # read back from the cache, no model
        patched.setattr(token_stats, "shared_causal_lm", _no_model)
        again = response_token_stats("smollm2", [PROMPT, PROMPT], [greedy, odd], progress=False)
    np.testing.assert_array_equal(again[1], stats[1])
    assert any(own_cache.glob("scores/*.jsonl"))


def test_an_empty_prompt_is_refused_and_an_empty_response_has_no_token_stats():
    with pytest.raises(UserError, match="prompt 0 is empty"):
        response_token_stats("smollm2", ["  "], ["an answer"], cache=False, progress=False)
    with pytest.raises(UserError, match="response 0 is empty or not a string: None"):
        response_token_stats("smollm2", ["a question"], [None], cache=False, progress=False)
    alone = response_token_stats("smollm2", ["a question"], [""], cache=False, progress=False)
    assert [s.shape for s in alone] == [(0, 3)]
    mixed = response_token_stats("smollm2", [PROMPT, PROMPT], ["", "Blue."], batch_size=2, cache=False, progress=False)
    blue = response_token_stats("smollm2", [PROMPT], ["Blue."], cache=False, progress=False)[0]
    assert mixed[0].shape == (0, 3) and len(blue)
    np.testing.assert_allclose(mixed[1], blue, atol=2e-3)
