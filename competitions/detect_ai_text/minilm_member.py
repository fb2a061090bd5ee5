"""Fine-tuned MiniLM member: a sequence classifier trained on the labeled texts.

    scores = minilm_finetuned(train_texts, y, pred_texts, seed=42)   # P(AI), (len(pred_texts),)

Training is the costly step on CPU, so its predictions are cached on disk keyed by a hash of
(train texts, labels, texts to score, config): a rerun on the same data costs nothing.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np

from common.atomic import atomic_path
from common.paths import cache_dir
from common.training.text_classifier import TextClassifierConfig, predict_proba, train_text_classifier

# 3 of 6 layers, 128 tokens, 1 epoch: about 0.35 s per training text on 2 shared cores
DEFAULTS = {"num_layers": 3, "max_length": 128, "epochs": 1, "batch_size": 16, "learning_rate": 8e-5}


def _key(train_texts, y, pred_texts, cfg: TextClassifierConfig) -> str:
    h = hashlib.sha256(json.dumps(asdict(cfg) | {"show_progress_bar": None}, sort_keys=True).encode())
    for part in (train_texts, [str(int(v)) for v in y], ["|"], pred_texts):
        for text in part:
            h.update(hashlib.sha256(text.encode("utf-8")).digest())
    return h.hexdigest()[:24]


def minilm_finetuned(train_texts, y, pred_texts, seed: int = 42,
                     cfg: TextClassifierConfig | None = None) -> np.ndarray:
    cfg = cfg or TextClassifierConfig(**DEFAULTS, seed=seed)
    path = cache_dir("detect_ai_text_minilm") / f"{_key(train_texts, y, pred_texts, cfg)}.npy"
    if path.exists():
        return np.load(path)
    model, tokenizer = train_text_classifier(list(train_texts), np.asarray(y, dtype=int), cfg)
    scores = predict_proba(model, tokenizer, list(pred_texts), max_length=cfg.max_length, threads=cfg.threads)[:, 1]
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, scores)
    return scores
