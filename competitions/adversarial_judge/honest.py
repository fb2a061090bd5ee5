"""The honest baseline: SmolLM2 writes a real essay on each topic.

    essays = honest_essays(["Discuss the significance of Ned Stark."], max_tokens=150, max_words=150, seed=42)
"""
from __future__ import annotations

import re

from common.llm.generation import GenerationConfig, generate

SYSTEM = "You are a good student. You write clear, correct, well-organized essays."
PROMPT = "Write a short essay of about 100 words on this topic. Write only the essay.\n\nTopic: {topic}"


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
    config = GenerationConfig(max_new_tokens=max_tokens, min_new_tokens=20, repetition_penalty=1.15, seed=seed,
                              system_prompt=SYSTEM, batch_size=8)
    texts = generate("smollm2", [PROMPT.format(topic=t) for t in topics], config, progress=progress,
                     desc="honest essays")
    return [clip_words(re.sub(r"\s+", " ", t), max_words) or t for t in texts]
