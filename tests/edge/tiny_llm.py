"""A tiny random Llama (2 layers, hidden 64) with SmolLM2's tokenizer, and its builder exports, for
the generator and runtime tests: the real export path in about 10-20 s a variant, no real weights.

    from tiny_llm import make_tiny_llm
    folder = make_tiny_llm(tmp_path / "tiny-llm")     # HF folder: config, safetensors, tokenizer
    model = load_fp32(folder)                          # a fresh fp32 copy in eval mode

Fixtures (registered by tests/edge/conftest.py): tiny_llm, generator_cache, tiny_exports, the last
built once per session into its own KLLM_CACHE so the real cache is left alone.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

PROMPT = "The history of the Roman Empire began when"


def make_tiny_llm(folder: Path, layers: int = 2, seed: int = 0, tied: bool = False) -> Path:
    """tied: the LM head shares the input embedding, as SmolLM2's does."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(_smollm2_folder())
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=512,
                         tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2, rope_theta=10000.0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # sharper logits than the default init (std ~8), so greedy near-ties are rare
        model.lm_head.weight.mul_(50)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)


@functools.cache
def _smollm2_folder() -> Path:
    """The converted SmolLM2 whose tokenizer every tiny model takes, looked up once: a test that has
    since pointed KLLM_CACHE at an empty folder would otherwise convert the GGUF again (about 28 s)."""
    from common.models import causal_lm_path

    return causal_lm_path("smollm2")


def load_fp32(folder: Path):
    """A fresh fp32 copy of the HF model in `folder`, in eval mode (tests that change weights take their own)."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory) -> Path:
    return make_tiny_llm(tmp_path_factory.mktemp("tiny-llm") / "hf")


@pytest.fixture(scope="session")
def generator_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generator-cache")


@pytest.fixture(scope="session")
def tiny_exports(tiny_llm, generator_cache) -> dict[str, Path]:
    """{"fp32": folder, "int4": folder, "int8-dynamic": folder} exported from the tiny Llama."""
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS

    old = os.environ.get("KLLM_CACHE")
    os.environ["KLLM_CACHE"] = str(generator_cache)
    try:
        return {name: build_variant(VARIANTS[name], str(tiny_llm), log=lambda *_: None) for name in ("fp32", "int4", "int8-dynamic")}
    finally:
        if old is None:
            os.environ.pop("KLLM_CACHE")
        else:
            os.environ["KLLM_CACHE"] = old
