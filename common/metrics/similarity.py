"""Sharpened cosine similarity (LLM Prompt Recovery).

    sharpened_cosine(["Rewrite as a poem"], ["Make it a poem"], encoder="minilm")

score = mean over rows of cos(e(pred), e(true)) ** 3. Kaggle's e is sentence-t5-base; here the
encoder is a parameter (a zoo name, a local folder or, with the hub allowed, an HF id) so the
metric runs offline. A score is only comparable with scores that used the same encoder, so
callers report it with `describe_encoder`. Instead of a name, `encode` may be any function
from a list of texts to an (n, d) array.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from common.errors import UserError

KAGGLE_ENCODER = "sentence-transformers/sentence-t5-base"
DEFAULT_ENCODER = "minilm"


def _encoder_fn(encoder: str) -> Callable[[list[str]], np.ndarray]:
    from common.models import load_sentence_encoder

    model = load_sentence_encoder(encoder)
    return lambda texts: model.encode(texts, batch_size=32, show_progress_bar=False)


def describe_encoder(encoder: str | None) -> str:
    """'encoder=minilm (Kaggle uses ...: not comparable with its leaderboard)', as `kllm score` prints it."""
    return f"encoder={encoder or DEFAULT_ENCODER}" + (
        "" if encoder == KAGGLE_ENCODER else f" (Kaggle uses {KAGGLE_ENCODER}: not comparable with its leaderboard)")


def sharpened_cosine(y_true: Sequence[str], y_pred: Sequence[str], encoder: str = DEFAULT_ENCODER,
                     encode: Callable[[list[str]], np.ndarray] | None = None, power: int = 3) -> float:
    if len(y_true) != len(y_pred):
        raise UserError(f"sharpened cosine: {len(y_true)} targets but {len(y_pred)} predictions")
    if not y_true:
        raise UserError("sharpened cosine: no rows to score")
    for text in list(y_true) + list(y_pred):
        if text is None or not str(text).strip():
            raise UserError("sharpened cosine: empty prediction or target text")
    encode = encode or _encoder_fn(encoder)
    a = np.asarray(encode(list(map(str, y_pred))), dtype=np.float64)
    b = np.asarray(encode(list(map(str, y_true))), dtype=np.float64)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    cosine = np.sum(a * b, axis=1)
    return float(np.mean(cosine ** power))
