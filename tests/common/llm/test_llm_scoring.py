"""Token log-probs, perplexity and continuation scores from SmolLM2, with and without prefix cache."""
import numpy as np
import pytest

from common.errors import UserError
from common.llm.scoring import perplexity, score_continuation_groups, score_continuations, token_logprobs

FLUENT = "The children walked to school in the morning and played football after lunch."
SHUFFLED = "football the after school walked lunch morning in and The to children played."


def test_token_logprobs_are_log_probabilities_one_per_token_after_the_first():
    from common.models import shared_causal_lm

    _, tokenizer = shared_causal_lm("smollm2")
    lps = token_logprobs("smollm2", [FLUENT, "Hello world."], batch_size=2, cache=False, progress=False)
    assert [lp.shape[0] for lp in lps] == [len(tokenizer(t)["input_ids"]) - 1 for t in (FLUENT, "Hello world.")]
    assert all(np.all(lp <= 0) and np.all(np.isfinite(lp)) for lp in lps)
    alone = token_logprobs("smollm2", ["Hello world."], cache=False, progress=False)[0]
    np.testing.assert_allclose(alone, lps[1], atol=1e-4)  # right padding does not move anything


def test_fluent_english_has_lower_perplexity_than_shuffled_words():
    ppl = perplexity("smollm2", [FLUENT, SHUFFLED], cache=False, progress=False)
    assert ppl.shape == (2,) and ppl[0] < ppl[1] / 3


def test_prefix_cache_scores_equal_full_scores_and_rank_the_right_answer_first():
    prefix = "Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:"
    options = [" carbon dioxide", " helium", " neon gas from distant stars", " argon", " oxygen and nitrogen"]
    cached = score_continuations("smollm2", prefix, options, batch_size=2, use_prefix_cache=True)
    full = score_continuations("smollm2", prefix, options, batch_size=3, use_prefix_cache=False)
    np.testing.assert_allclose(cached.total, full.total, atol=2e-3)
    np.testing.assert_allclose(cached.mean, cached.total / cached.n_tokens)
    assert np.all(cached.total < 0)
    assert int(np.argmax(cached.mean)) == 0


def test_grouped_prefixes_of_different_lengths_score_as_one_prefix_at_a_time():
    prefixes = ["Question: Which gas do plants absorb from the air for photosynthesis?\nAnswer:",
                "The moon orbits the Earth.\n\nQuestion: What orbits the Earth?\nAnswer:", "Q: 2+2=?\nA:"]
    groups = [[" carbon dioxide", " helium"], [" the moon", " a comet far away", " Mars"], [" 4"]]
    grouped = score_continuation_groups("smollm2", prefixes, groups)
    assert [s.total.shape[0] for s in grouped] == [2, 3, 1]
    for prefix, options, together in zip(prefixes, groups, grouped):
        alone = score_continuations("smollm2", prefix, options, use_prefix_cache=False)
        np.testing.assert_allclose(together.total, alone.total, atol=2e-3)   # padding changes nothing
        np.testing.assert_array_equal(together.n_tokens, alone.n_tokens)
    assert int(np.argmax(grouped[1].mean)) == 0


def test_empty_inputs_are_user_errors():
    with pytest.raises(UserError, match="text 1 is empty"):
        token_logprobs("smollm2", ["fine", "  "], cache=False)
    with pytest.raises(UserError, match="continuation 0"):
        score_continuations("smollm2", "Q:", [""])
    with pytest.raises(UserError, match="prefix 1"):
        score_continuation_groups("smollm2", ["Q:", " "], [[" a"], [" b"]])


def test_a_huge_prefix_keeps_its_end_and_a_huge_continuation_its_start(monkeypatch):
    from common.llm import scoring
    from common.models import shared_causal_lm

    assert (scoring.MAX_PREFIX_TOKENS, scoring.MAX_CONTINUATION_TOKENS) == (2048, 512)
    # the caps scaled down 8x: the same cuts, a far shorter forward
    monkeypatch.setattr(scoring, "MAX_PREFIX_TOKENS", 256)
    monkeypatch.setattr(scoring, "MAX_CONTINUATION_TOKENS", 64)
    _, tokenizer = shared_causal_lm("smollm2")
    question = "\nQuestion: Which gas do plants absorb?\nAnswer:"
    prefix = "Plants grow in soil. " * 250 + question                      # ~1,300 tokens
    kept = tokenizer.decode(tokenizer(prefix)["input_ids"][-256:])
    long_option = " carbon dioxide" + " and more" * 250
    huge = score_continuation_groups("smollm2", [prefix], [[" carbon dioxide", long_option]])[0]
    cut = score_continuation_groups("smollm2", [kept], [[" carbon dioxide", long_option]])[0]
    np.testing.assert_allclose(huge.total, cut.total, atol=2e-3)          # the same last 256 tokens were scored
    assert huge.n_tokens[1] == 64 and kept.endswith(question)
