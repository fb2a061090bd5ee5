"""Fine-tune a transformers sequence classifier (default: MiniLM, optionally cut to fewer layers,
optionally LoRA) on hard or soft labels, over texts or text pairs, with a seeded minimal loop.

    from common.training.text_classifier import TextClassifierConfig, train_text_classifier, predict_proba
    cfg = TextClassifierConfig(num_layers=3, max_length=128, epochs=1)
    model, tokenizer = train_text_classifier(texts, [0, 1, ...], cfg)           # hard labels
    model, tokenizer = train_text_classifier(texts, probs_n_by_k, cfg)          # soft labels (rows sum 1)
    model, tokenizer = train_text_classifier([("question", "answer"), ...], y, cfg)   # text pairs
    cfg = TextClassifierConfig(model="smollm2", lora=True, lora_r=16)          # LoRA on a causal LM
    probs = predict_proba(model, tokenizer, new_texts, max_length=128)         # (n, num_labels)

With cfg.lora the adapters are merged into the weights after training: the result is always a
plain transformers model (save_pretrained, ONNX export and predict_proba work as usual).
Subclass `TextClassifierTrainer` and override `loss` to change the objective (edge's
distillation does this for a temperature-scaled KL loss).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from common.errors import UserError
from common.training.config import TrainConfig, training_session
from common.training.inputs import Inputs, check_inputs, input_length, tokenize
from common.training.lora import with_lora
from common.training.loop import adamw_steps


@dataclass(frozen=True)
class TextClassifierConfig(TrainConfig):
    """TrainConfig (model, epochs, batch_size, learning_rate, max_length, seed, threads, lora...)
    plus num_layers (int or None, None): keep only the first N transformer layers, and
    num_labels (int, 2): output classes."""

    num_layers: int | None = None
    num_labels: int = 2


def model_folder(name: str) -> Path:
    """A local folder for cfg.model: a folder as is, a registered causal LM (converted once),
    else an encoder name or hub id (common.models)."""
    from common.models import MODELS, causal_lm_path, encoder_path

    if Path(name).is_dir():
        return Path(name)
    if name in MODELS and MODELS[name].kind == "causal_lm":
        return causal_lm_path(name)
    return encoder_path(name)


def load_classifier(cfg: TextClassifierConfig):
    """(model, tokenizer): a fresh classification head on cfg.model, cut to cfg.num_layers."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    folder = model_folder(cfg.model)
    with training_session(cfg):
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
        try:
            model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=cfg.num_labels)
        finally:
            hf_logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:  # causal LMs: pad with end-of-text; the head reads the last real token
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    if cfg.num_layers is not None:
        truncate_layers(model, cfg.num_layers)
    return model, tokenizer


def truncate_layers(model, num_layers: int) -> None:
    """Keep the first `num_layers` transformer layers (BERT-like or Llama-like), in place."""
    base = model.base_model
    owner, attr = (base.encoder, "layer") if hasattr(base, "encoder") else (base, "layers")
    layers = getattr(owner, attr)
    if not 1 <= num_layers <= len(layers):
        raise UserError(f"num_layers must be in 1..{len(layers)}, got {num_layers}")
    setattr(owner, attr, layers[:num_layers])
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

    def train(self, model, tokenizer, inputs: Inputs, targets: np.ndarray):
        """The trained model in eval mode (with cfg.lora: the adapters merged into a plain model)."""
        import torch

        cfg = self.cfg
        if len(inputs) != len(targets) or not len(inputs):
            raise UserError(f"need as many labels as inputs (got {len(inputs)} inputs, {len(targets)} labels)")
        inputs = check_inputs(inputs)

        def batch_loss(idx):
            logits = model(**tokenize(tokenizer, [inputs[i] for i in idx], cfg.max_length)).logits  # (B, K)
            return self.loss(logits, torch.from_numpy(targets[idx]))

        with training_session(cfg):
            if cfg.lora:
                model = with_lora(model, cfg, task_type="SEQ_CLS")
            adamw_steps(model, cfg, len(inputs), batch_loss)
        if cfg.lora:
            model = model.merge_and_unload()
        return model.eval()


def train_text_classifier(inputs: Inputs, labels, cfg: TextClassifierConfig | None = None,
                          trainer: TextClassifierTrainer | None = None, model=None):
    """Fine-tune and return (model in eval mode, tokenizer). `inputs`: texts or (text, text) pairs.
    `trainer` defaults to TextClassifierTrainer(cfg); `model` may be a (model, tokenizer) pair to
    continue from, otherwise a fresh one is loaded from cfg.model."""
    cfg = cfg or (trainer.cfg if trainer else TextClassifierConfig())
    targets = as_targets(labels, cfg.num_labels)
    model, tokenizer = model if model is not None else load_classifier(cfg)
    model = (trainer or TextClassifierTrainer(cfg)).train(model, tokenizer, inputs, targets)
    return model, tokenizer


def predict_proba(model, tokenizer, inputs: Inputs, max_length: int = 256, batch_size: int = 32,
                  show_progress_bar: bool = False, threads: int | None = None) -> np.ndarray:
    """Softmax probabilities, shape (n, num_labels); inputs are sorted by length for speed.
    threads: torch CPU threads for the call (None: leave torch's setting)."""
    import torch

    inputs = check_inputs(inputs)
    order = np.argsort([input_length(x) for x in inputs], kind="stable")
    out = np.zeros((len(inputs), model.config.num_labels), dtype=np.float32)
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    model.eval()
    try:
        with torch.inference_mode():
            for start in tqdm(range(0, len(inputs), batch_size), desc="predict", disable=not show_progress_bar):
                idx = order[start:start + batch_size]
                batch = tokenize(tokenizer, [inputs[i] for i in idx], max_length)
                out[idx] = torch.softmax(model(**batch).logits, dim=-1).numpy()
    finally:
        torch.set_num_threads(before)
    return out
