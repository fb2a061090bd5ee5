"""Fine-tune an encoder as a multiple-choice model (AutoModelForMultipleChoice), optionally LoRA.

    cfg = MultipleChoiceConfig(model="minilm", epochs=1, max_length=128, lora=False, seed=42)   # a TrainConfig
    model, tokenizer = train_multiple_choice(firsts, seconds, labels, cfg)
    logits = predict_multiple_choice(model, tokenizer, firsts_test, seconds_test, cfg)   # (n, n_options)

Each question i becomes n_options text pairs (firsts[i], seconds[i][j]) — for example
(question + retrieved context, option j) — scored by one shared head; softmax over the options
and cross-entropy with the right option's index. A minimal loop: AdamW, linear warmup/decay,
seeded shuffling, a tqdm bar. `model` is a name from common.models or a local folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from common.errors import UserError
from common.training.config import TrainConfig, training_session
from common.training.lora import with_lora


@dataclass(frozen=True)
class MultipleChoiceConfig(TrainConfig):
    """TrainConfig (model, epochs, batch_size = questions per step, learning_rate, max_length =
    tokens per (first, second) pair with the longer side truncated first, seed, threads, lora...)
    with max_length 128 and batch_size 4, plus trainable_layers (int or None, None): train only
    the top N encoder layers plus the head (cheaper on CPU; None: all), and predict_batch_size
    (int, 16): questions per forward pass when predicting. With lora the adapters go on
    cfg.lora_target_modules (None: query/value for BERT) and the head trains in full."""

    max_length: int = 128
    batch_size: int = 4
    trainable_layers: int | None = None
    predict_batch_size: int = 16


def _check(firsts: Sequence[str], seconds: Sequence[Sequence[str]]) -> int:
    if len(firsts) != len(seconds) or not firsts:
        raise UserError(f"multiple choice: {len(firsts)} questions but {len(seconds)} option lists")
    widths = {len(options) for options in seconds}
    if len(widths) != 1:
        raise UserError(f"multiple choice: every question needs the same number of options, found {sorted(widths)}")
    return widths.pop()


def _encode(tokenizer, firsts, seconds, max_length: int) -> list[dict]:
    """One dict of token id lists per question, each (n_options, len) before padding."""
    n_options = _check(firsts, seconds)
    flat_first = [f for f in firsts for _ in range(n_options)]
    flat_second = [s for options in seconds for s in options]
    enc = tokenizer(flat_first, flat_second, truncation="longest_first", max_length=max_length)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    return [{k: enc[k][i * n_options:(i + 1) * n_options] for k in keys} for i in range(len(firsts))]


def _collate(tokenizer, questions: list[dict]):
    n_options = len(questions[0]["input_ids"])
    flat = [{k: q[k][j] for k in q} for q in questions for j in range(n_options)]
    batch = tokenizer.pad(flat, return_tensors="pt")
    return {k: v.view(len(questions), n_options, -1) for k, v in batch.items()}   # (B, n_options, L)


def _load(config: MultipleChoiceConfig):
    from transformers import AutoModelForMultipleChoice, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from common.models import encoder_path

    path = str(encoder_path(config.model))
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()   # "classifier newly initialized" is expected here
    try:
        model = AutoModelForMultipleChoice.from_pretrained(path)
    finally:
        hf_logging.set_verbosity(verbosity)
    return model, AutoTokenizer.from_pretrained(path)


def _limit_trainable(model, config: MultipleChoiceConfig):
    if config.lora:
        return with_lora(model, config, modules_to_save=("classifier",))
    if config.trainable_layers is not None:
        layers = model.base_model.encoder.layer
        keep_from = max(0, len(layers) - config.trainable_layers)
        for name, param in model.named_parameters():
            in_top = any(f"encoder.layer.{i}." in name for i in range(keep_from, len(layers)))
            param.requires_grad = in_top or "pooler" in name or "classifier" in name
    return model


def train_multiple_choice(firsts: Sequence[str], seconds: Sequence[Sequence[str]], labels: Sequence[int],
                          config: MultipleChoiceConfig | None = None):
    """(model, tokenizer) after `epochs` passes over the questions; labels are option indices."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    config = config or MultipleChoiceConfig()
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(firsts):
        raise UserError(f"multiple choice: {len(firsts)} questions but {len(labels)} labels")
    with training_session(config):
        model, tokenizer = _load(config)
        encoded = _encode(tokenizer, firsts, seconds, config.max_length)
        model = _limit_trainable(model, config)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
        steps = config.epochs * -(-len(encoded) // config.batch_size)
        schedule = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * steps), steps)
        generator = torch.Generator().manual_seed(config.seed)
        model.train()
        bar = tqdm(total=steps, desc=f"fine-tune {config.model} (multiple choice)",
                   disable=not config.show_progress_bar)
        for _ in range(config.epochs):
            order = torch.randperm(len(encoded), generator=generator).tolist()
            for start in range(0, len(order), config.batch_size):
                idx = order[start:start + config.batch_size]
                batch = _collate(tokenizer, [encoded[i] for i in idx])
                loss = model(**batch, labels=torch.from_numpy(labels[idx])).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}")
                bar.update(1)
        bar.close()
    model.eval()
    return model, tokenizer


def predict_multiple_choice(model, tokenizer, firsts: Sequence[str], seconds: Sequence[Sequence[str]],
                            config: MultipleChoiceConfig | None = None) -> np.ndarray:
    """Logits (n_questions, n_options); questions are batched by length to save padding."""
    import torch

    config = config or MultipleChoiceConfig()
    encoded = _encode(tokenizer, firsts, seconds, config.max_length)
    order = sorted(range(len(encoded)), key=lambda i: max(len(ids) for ids in encoded[i]["input_ids"]))
    logits = np.zeros((len(encoded), len(encoded[0]["input_ids"])), dtype=np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    model.eval()
    try:
        with torch.inference_mode():
            for start in tqdm(range(0, len(order), config.predict_batch_size), desc="predict multiple choice",
                              disable=not config.show_progress_bar):
                idx = order[start:start + config.predict_batch_size]
                logits[idx] = model(**_collate(tokenizer, [encoded[i] for i in idx])).logits.float().numpy()
    finally:
        torch.set_num_threads(before)
    return logits
