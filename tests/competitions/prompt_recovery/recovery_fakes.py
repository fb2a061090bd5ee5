"""A stand-in for the metric encoder: hashed bag-of-words vectors, no model to load, so the
search, the members and the combined rule are tested in milliseconds."""
from __future__ import annotations

import re
import zlib

import numpy as np

from competitions.prompt_recovery.encoder import MetricEncoder

WORDS = ["rewrite", "text", "poem", "story", "letter", "simpler", "tone", "as", "a", "this", "the"]


class FakeEncoder(MetricEncoder):
    """encode(): unit vectors of hashed lower-cased words (64 dims); one token per word + 2."""

    def __init__(self, limit: int = 64):
        self.name, self.fingerprint, self.limit = "fake", "fake", limit
        self._memo = {}
        self.calls: list[list[str]] = []

    def encode(self, texts) -> np.ndarray:
        texts = [str(t) for t in texts]
        self.calls.append(texts)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % 64] += 1.0
            out[i, 63] += 0.5   # no zero vector for an empty or punctuation-only string
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def token_counts(self, texts) -> list[int]:
        return [len(str(t).split()) + 2 for t in texts]

    def whole_words(self, limit: int) -> list[str]:
        return WORDS[:limit]
