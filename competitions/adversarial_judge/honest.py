"""The honest baseline: SmolLM2 writes a real essay on each topic.

    essays = honest_essays(["Discuss the significance of Ned Stark."], max_tokens=150, max_words=150, seed=42)
    writer_settings(max_tokens=150, max_words=150)   # the same rule as a plan's writer, for the device

The device writes these essays with its own export of the same model (edge/runtime/essays.py
repeats clip_words and the decoding rule: greedy, the repetition penalty over prompt and answer,
no end of turn before MIN_NEW_TOKENS).
"""
from __future__ import annotations

import re

from common.llm.generation import GenerationConfig, generate

SYSTEM = "You are a good student. You write clear, correct, well-organized essays."
PROMPT = "Write a short essay of about 100 words on this topic. Write only the essay.\n\nTopic: {topic}"
MODEL = "smollm2"
MIN_NEW_TOKENS = 20
REPETITION_PENALTY = 1.15


def writer_settings(max_tokens: int, max_words: int) -> dict:
    """How honest_essays writes, as plain JSON: a plan's writer (edge/runtime/essays.py LmWriter)."""
    return {"model": MODEL, "system": SYSTEM, "prompt": PROMPT, "max_new_tokens": max_tokens,
            "min_new_tokens": MIN_NEW_TOKENS, "repetition_penalty": REPETITION_PENALTY, "max_words": max_words}


def clip_words(text: str, max_words: int) -> str:
    """At most max_words words, cut after the last full sentence that fits when there is one."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind(".\n"))
    return cut[: end + 1] if end > len(cut) // 2 else cut


def honest_essays(topics: list[str], max_tokens: int = 150, max_words: int = 150, seed: int = 42,
                  progress: bool = True) -> list[str]:
    """One essay per topic, greedy with a light repetition penalty (cached, so reruns are free)."""
    config = GenerationConfig(max_new_tokens=max_tokens, min_new_tokens=MIN_NEW_TOKENS,
                              repetition_penalty=REPETITION_PENALTY, seed=seed, system_prompt=SYSTEM, batch_size=8)
    texts = generate(MODEL, [PROMPT.format(topic=t) for t in topics], config, progress=progress,
                     desc="honest essays")
    return [clip_words(re.sub(r"\s+", " ", t), max_words) or t for t in texts]
