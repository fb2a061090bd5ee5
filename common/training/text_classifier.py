"""Fine-tune a transformer sequence classifier (default: MiniLM, optionally cut to fewer layers)
on hard labels or soft labels, with a minimal seeded training loop.

    from common.training.text_classifier import TextClassifierConfig, train_text_classifier, predict_proba
    cfg = TextClassifierConfig(num_layers=3, max_length=128, epochs=1)
    model, tokenizer = train_text_classifier(texts, [0, 1, ...], cfg)        # hard labels
    model, tokenizer = train_text_classifier(texts, probs_n_by_k, cfg)       # soft labels (rows sum 1)
    probs = predict_proba(model, tokenizer, new_texts, max_length=128)      # (n, num_labels)

Subclass `TextClassifierTrainer` and override `loss` to change the objective (edge/distill.py
does this for temperature-scaled distillation).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from common.errors import UserError


@dataclass
class TextClassifierConfig:
    """encoder: model-zoo name or local folder of a BERT-like encoder (default "minilm").
    num_layers: keep only the first N transformer layers (None: all).
    num_labels: output classes. max_length: tokens per text (longer texts are truncated).
    epochs, batch_size, lr, weight_decay, warmup_ratio: the optimisation (AdamW, linear decay).
    seed: seeds python, numpy and torch. threads: torch CPU threads (at most 2 on shared boxes).
    show_progress_bar: tqdm over training steps."""

    encoder: str = "minilm"
    num_layers: int | None = None
    num_labels: int = 2
    max_length: int = 256
    epochs: int = 1
    batch_size: int = 16
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 42
    threads: int = 2
    show_progress_bar: bool = True


def seed_all(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_classifier(cfg: TextClassifierConfig):
    """(model, tokenizer): a fresh classification head on the encoder, cut to cfg.num_layers."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from common.models import encoder_path

    torch.set_num_threads(cfg.threads)
    folder = Path(cfg.encoder) if Path(cfg.encoder).is_dir() else encoder_path(cfg.encoder)
    seed_all(cfg.seed)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
    try:
        model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=cfg.num_labels)
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if cfg.num_layers is not None:
        truncate_layers(model, cfg.num_layers)
    return model, tokenizer


def truncate_layers(model, num_layers: int) -> None:
    """Keep the first `num_layers` encoder layers of a BERT-like model, in place."""
    layers = model.base_model.encoder.layer
    if not 1 <= num_layers <= len(layers):
        raise UserError(f"num_layers must be in 1..{len(layers)}, got {num_layers}")
    model.base_model.encoder.layer = layers[:num_layers]
    model.config.num_hidden_layers = num_layers


def as_targets(labels, num_labels: int) -> np.ndarray:
    """Hard labels (n,) ints -> one-hot; soft labels (n, k) -> checked probabilities."""
    arr = np.asarray(labels)
    if arr.ndim == 1:
        if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= num_labels:
            raise UserError(f"hard labels must be integers in 0..{num_labels - 1}")
        return np.eye(num_labels, dtype=np.float32)[arr]
    if arr.ndim != 2 or arr.shape[1] != num_labels:
        raise UserError(f"soft labels must have shape (n, {num_labels}), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or not np.allclose(arr.sum(1), 1, atol=1e-3):
        raise UserError("soft labels must be finite probabilities whose rows sum to 1")
    return arr.astype(np.float32)


class TextClassifierTrainer:
    """A minimal AdamW loop. `loss(logits, targets)` is soft-target cross-entropy, which is the
    usual cross-entropy for one-hot targets."""

    def __init__(self, cfg: TextClassifierConfig):
        self.cfg = cfg

    def loss(self, logits, targets):
        import torch

        return -(targets * torch.log_softmax(logits, dim=-1)).sum(-1).mean()

    def train(self, model, tokenizer, texts: list[str], targets: np.ndarray):
        import torch
        from transformers import get_linear_schedule_with_warmup

        cfg = self.cfg
        if len(texts) != len(targets) or not texts:
            raise UserError(f"need as many labels as texts (got {len(texts)} texts, {len(targets)} labels)")
        torch.set_num_threads(cfg.threads)
        seed_all(cfg.seed)
        order_rng = np.random.default_rng(cfg.seed)
        steps_per_epoch = -(-len(texts) // cfg.batch_size)
        total = steps_per_epoch * cfg.epochs
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        schedule = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
        model.train()
        bar = tqdm(total=total, desc="train", disable=not cfg.show_progress_bar, unit="step")
        for _ in range(cfg.epochs):
            order = order_rng.permutation(len(texts))
            for start in range(0, len(texts), cfg.batch_size):
                idx = order[start:start + cfg.batch_size]
                batch = tokenizer([texts[i] for i in idx], truncation=True, max_length=cfg.max_length,
                                  padding=True, return_tensors="pt")
                logits = model(**batch).logits  # (B, num_labels)
                loss = self.loss(logits, torch.from_numpy(targets[idx]))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.4f}")
        bar.close()
        model.eval()
        return model


def train_text_classifier(texts: list[str], labels, cfg: TextClassifierConfig | None = None,
                          trainer: TextClassifierTrainer | None = None, model=None):
    """Fine-tune and return (model in eval mode, tokenizer). `trainer` defaults to
    TextClassifierTrainer(cfg); `model` may be a (model, tokenizer) pair to continue from,
    otherwise a fresh one is loaded from cfg.encoder."""
    cfg = cfg or (trainer.cfg if trainer else TextClassifierConfig())
    targets = as_targets(labels, cfg.num_labels)
    model, tokenizer = model if model is not None else load_classifier(cfg)
    (trainer or TextClassifierTrainer(cfg)).train(model, tokenizer, list(texts), targets)
    return model, tokenizer


def predict_proba(model, tokenizer, texts: list[str], max_length: int = 256, batch_size: int = 32,
                  show_progress_bar: bool = False) -> np.ndarray:
    """Softmax probabilities, shape (n, num_labels); texts are sorted by length for speed."""
    import torch

    texts = list(texts)
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in tqdm(range(0, len(texts), batch_size), desc="predict", disable=not show_progress_bar):
            idx = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                              padding=True, return_tensors="pt")
            out[idx] = torch.softmax(model(**batch).logits, dim=-1).numpy()
    return out

