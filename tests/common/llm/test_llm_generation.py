"""Generation with SmolLM2: answers, only new text, deterministic, seeded sampling, cached."""
import pytest

from common.errors import UserError
from common.llm import generation
from common.llm.generation import GenerationConfig, generate, render_prompt
from common.models import shared_causal_lm

FAST = GenerationConfig(max_new_tokens=8, batch_size=2)


def test_greedy_answer_is_new_text_only_and_repeats_exactly():
    prompts = ["What is the capital of France?", "Name a planet in our solar system."]
    first = generate("smollm2", prompts, FAST, cache=False, progress=False)
    second = generate("smollm2", prompts, FAST, cache=False, progress=False)
    assert first == second
    assert "Paris" in first[0]
    assert all(t == t.strip() and "assistant" not in t and prompts[0] not in t for t in first)


def test_sampling_is_reproducible_per_seed_and_varies_across_seeds():
    prompts = ["Write a short poem about the sea.", "Tell me a story about a fox."]
    cfg = GenerationConfig(max_new_tokens=8, batch_size=2, temperature=1.0, seed=1)
    a = generate("smollm2", prompts, cfg, cache=False, progress=False)
    b = generate("smollm2", prompts, cfg, cache=False, progress=False)
    others = [generate("smollm2", prompts, GenerationConfig(**{**cfg.__dict__, "seed": s}), cache=False,
                       progress=False) for s in (2, 3)]
    assert a == b
    assert any(o != a for o in others)


def test_chat_template_and_system_prompt_shape_the_model_input():
    _, tokenizer = shared_causal_lm("smollm2")
    chat = render_prompt(tokenizer, "Hi", GenerationConfig(system_prompt="Be brief."))
    assert "<|im_start|>system\nBe brief.<|im_end|>" in chat and chat.endswith("<|im_start|>assistant\n")
    plain = render_prompt(tokenizer, "Hi", GenerationConfig(system_prompt="Be brief.", chat_template=False))
    assert plain == "Be brief.\n\nHi"


def test_cached_call_does_not_touch_the_model(own_cache, monkeypatch):
    prompts = ["Say hello."]
    first = generate("smollm2", prompts, FAST, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("model called on a cached prompt")

    monkeypatch.setattr(generation, "generate_batch", fail)
    assert generate("smollm2", prompts + prompts, FAST, progress=False) == first + first


def test_bad_inputs_are_user_errors():
    assert generate("smollm2", [], FAST) == []
    with pytest.raises(UserError, match="prompt 1 is not a string"):
        generate("smollm2", ["ok", None], FAST)
    with pytest.raises(UserError):
        GenerationConfig(temperature=-1)
