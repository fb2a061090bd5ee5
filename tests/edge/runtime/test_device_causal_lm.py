"""The on-device causal LM (edge/runtime/causal_lm.py) on the tiny Llama's exports: the KV cache
decodes as one teacher-forced pass, both cache paths agree, and scoring is what the logits say."""
from __future__ import annotations

import numpy as np
import pytest
from tiny_llm import PROMPT

from edge.runtime.causal_lm import CausalLM, InputError, log_softmax


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_kv_cache_decode_equals_teacher_forced_argmax(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    ids = lm.encode(PROMPT)
    new = lm.generate_ids(ids, 12, stop_at_eos=False)
    full = lm.forward(ids + new[:-1])                      # (T, V): one pass, no cache
    assert full[len(ids) - 1:].argmax(axis=-1).tolist() == new


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_the_shared_kv_buffer_decodes_as_feeding_the_presents_back(tiny_exports, variant):
    shared, copied = CausalLM(tiny_exports[variant]), CausalLM(tiny_exports[variant])
    assert shared.share_buffer  # the builder's genai_config.json asks for it
    copied.share_buffer = False
    ids = shared.encode(PROMPT)
    steps = [lm._decoder(len(ids) + 6) for lm in (shared, copied)]
    logits = [step(ids, len(ids)) for step in steps]
    for t in range(6):
        np.testing.assert_allclose(logits[0], logits[1], atol=1e-5)
        token = int(logits[0][-1].argmax())
        logits = [step([token], len(ids) + t + 1) for step in steps]
    assert shared.generate_ids(ids, 12, stop_at_eos=False) == copied.generate_ids(ids, 12, stop_at_eos=False)


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_one_token_steps_reuse_their_buffers_and_hand_back_logits_that_stay(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    ids = lm.encode(PROMPT)
    step = lm._decoder(len(ids) + 4)
    logits = step(ids, len(ids))
    kept, fed = [], []
    for t in range(4):
        fed.append(int(logits[-1].argmax()))
        logits = step([fed[-1]], len(ids) + t + 1)
        kept.append((logits, logits.copy()))
    assert all(np.array_equal(got, snapshot) for got, snapshot in kept)   # no step wrote over an earlier one
    assert not np.array_equal(kept[0][0], kept[1][0])
    full = lm.forward(ids + fed)                                          # (T, V), no cache
    np.testing.assert_allclose(np.stack([k[0][-1] for k in kept]), full[len(ids):], atol=1e-4)

def test_score_is_the_sum_of_the_continuation_token_logprobs(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    total, per_token = lm.score("Question: what is the capital of France? Answer:", " Paris is the capital")
    ctx, cont = lm.encode("Question: what is the capital of France? Answer:"), lm.encode(" Paris is the capital")
    assert len(per_token) == len(cont) and total == pytest.approx(sum(per_token))
    logp = log_softmax(lm.forward(ctx + cont))
    expected = [logp[len(ctx) - 1 + i, t] for i, t in enumerate(cont)]
    np.testing.assert_allclose(per_token, expected, atol=1e-9)
    assert all(x < 0 for x in per_token)


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_continuation_scores_reuse_the_prefix_and_equal_scoring_each_alone(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    prefix, continuations = "Question: which gas do plants take in?\nAnswer:", [" oxygen", " carbon dioxide", " a"]
    totals = [lm.score(prefix, c)[0] for c in continuations]
    np.testing.assert_allclose(lm.continuation_scores(prefix, continuations, norm="sum"), totals, atol=1e-4)
    means = [t / len(lm.encode(c)) for t, c in zip(totals, continuations)]
    np.testing.assert_allclose(lm.continuation_scores(prefix, continuations), means, atol=1e-4)
    for bad_prefix, bad_continuations in (("", [" oxygen"]), (prefix, [""])):
        with pytest.raises(InputError, match="non-empty"):
            lm.continuation_scores(bad_prefix, bad_continuations)


def test_scoring_keeps_the_hosts_token_caps(tiny_exports, monkeypatch):
    from common.llm import scoring
    from edge.runtime import causal_lm

    assert (causal_lm.MAX_PREFIX_TOKENS, causal_lm.MAX_CONTINUATION_TOKENS) == (scoring.MAX_PREFIX_TOKENS,
                                                                               scoring.MAX_CONTINUATION_TOKENS)
    monkeypatch.setattr(causal_lm, "MAX_PREFIX_TOKENS", 8)
    monkeypatch.setattr(causal_lm, "MAX_CONTINUATION_TOKENS", 3)
    lm = CausalLM(tiny_exports["fp32"])
    prefix, continuation = "Question: which gas do plants take in when the sun shines?\nAnswer:", " carbon dioxide gas and more"
    kept_prefix, kept = lm.encode(prefix)[-8:], lm.encode(continuation)[:3]
    assert len(lm.encode(prefix)) > 8 and len(lm.encode(continuation)) > 3
    logp = log_softmax(lm.forward(kept_prefix + kept))
    expected = sum(logp[len(kept_prefix) - 1 + i, t] for i, t in enumerate(kept))
    total, per_token = lm.score(prefix, continuation)
    assert len(per_token) == 3 and total == pytest.approx(expected, abs=1e-4)
    assert lm.continuation_scores(prefix, [continuation], norm="sum") == pytest.approx([expected], abs=1e-4)
