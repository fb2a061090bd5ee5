"""Batched, seeded, cached text generation with a local causal LM.

    from common.llm.generation import GenerationConfig, generate
    answers = generate("smollm2", ["What is photosynthesis?"], GenerationConfig(max_new_tokens=64))

Prompts go through the model's chat template (when it has one and `chat_template=True`) and are
left-padded into batches. Each batch is seeded from `config.seed` and its prompts, and finished
rows are appended to a disk cache (`common.llm.cache`), so the same call returns the same texts,
and a killed run resumes where it stopped.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from common.errors import UserError
from common.llm.cache import JsonlCache, cached_map
from common.models import model_fingerprint, shared_causal_lm


@dataclass
class GenerationConfig:
    """max_new_tokens: tokens generated per prompt at most; min_new_tokens: at least (EOS is
    suppressed until then; 0 lets the model stop at once).
    temperature: 0.0 decodes greedily; above 0 samples (with top_p, top_k; top_k=0 is off).
    repetition_penalty: 1.0 is off. seed: mixed with each batch's prompts into that batch's seed.
    batch_size: prompts per forward pass (part of the cache key: padding changes the numbers).
    system_prompt: an optional system message. chat_template: use the tokenizer's template."""

    max_new_tokens: int = 128
    min_new_tokens: int = 0
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    seed: int = 0
    batch_size: int = 8
    system_prompt: str | None = None
    chat_template: bool = True

    def __post_init__(self):
        if self.max_new_tokens < 1 or self.batch_size < 1 or not 0 <= self.min_new_tokens <= self.max_new_tokens:
            raise UserError("need max_new_tokens >= 1, batch_size >= 1, 0 <= min_new_tokens <= max_new_tokens")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0 or self.repetition_penalty <= 0:
            raise UserError("need temperature >= 0, 0 < top_p <= 1, top_k >= 0, repetition_penalty > 0")


def uses_chat_template(tokenizer, config: GenerationConfig) -> bool:
    return bool(config.chat_template and getattr(tokenizer, "chat_template", None))


def render_prompt(tokenizer, prompt: str, config: GenerationConfig) -> str:
    """The exact text the model sees for one prompt."""
    if uses_chat_template(tokenizer, config):
        messages = [{"role": "system", "content": config.system_prompt}] if config.system_prompt is not None else []
        messages.append({"role": "user", "content": prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return f"{config.system_prompt}\n\n{prompt}" if config.system_prompt else prompt


def batch_seed(seed: int, prompts: list[str]) -> int:
    digest = hashlib.sha256(("\x1f".join([str(seed), *prompts])).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def generate_batch(model, tokenizer, prompts: list[str], config: GenerationConfig) -> list[str]:
    """One left-padded forward batch, uncached. Returns the new text of each prompt, stripped."""
    import torch
    import transformers

    texts = [render_prompt(tokenizer, p, config) for p in prompts]
    enc = tokenizer(texts, return_tensors="pt", padding=True,
                    add_special_tokens=not uses_chat_template(tokenizer, config)).to(model.device)
    sampling = config.temperature > 0
    options = dict(temperature=config.temperature, top_p=config.top_p, top_k=config.top_k) if sampling else {}
    gen = transformers.GenerationConfig(
        max_new_tokens=config.max_new_tokens, min_new_tokens=config.min_new_tokens, do_sample=sampling,
        repetition_penalty=config.repetition_penalty, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=model.generation_config.eos_token_id or tokenizer.eos_token_id, **options,
    )
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(batch_seed(config.seed, prompts))
        out = model.generate(**enc, generation_config=gen)  # (B, T_in + T_new)
    new_tokens = out[:, enc["input_ids"].shape[1]:]
    return [t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


def generate(
    model_name: str,
    prompts: list[str],
    config: GenerationConfig | None = None,
    cache: bool = True,
    progress: bool = True,
    desc: str = "generate",
) -> list[str]:
    """Generated text for each prompt (only the new text, stripped), in input order."""
    config = config or GenerationConfig()
    prompts = list(prompts)
    bad = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
    if bad:
        raise UserError(f"prompt {bad[0]} is not a string: {prompts[bad[0]]!r}")
    if not prompts:
        return []
    store = JsonlCache("generations", model_name, model_fingerprint(model_name), asdict(config)) if cache else None

    def compute(batch: list[str]) -> list[str]:
        model, tokenizer = shared_causal_lm(model_name)  # loaded only when something is missing
        return generate_batch(model, tokenizer, batch, config)

    return cached_map(store, prompts, compute, config.batch_size, progress, desc)
