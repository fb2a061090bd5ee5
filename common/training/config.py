"""The one argument vocabulary of every trainer, and the seeded, deterministic training session.

    from common.training.config import training_session
    from common.training.text_classifier import TextClassifierConfig
    cfg = TextClassifierConfig(model="minilm", epochs=2, learning_rate=1e-4, seed=7)   # a subclass
    cfg = dataclasses.replace(cfg, threads=1, show_progress_bar=False)
    with training_session(cfg):       # seeds, cfg.threads, deterministic torch; restored after
        ...

Subclasses add only what their task needs: `TextClassifierConfig` (num_layers, num_labels),
`MultipleChoiceConfig` (trainable_layers, predict_batch_size), edge's `DistillConfig`
(temperature). Configs are frozen, so a config is a value: `repr(cfg)` and `asdict(cfg)` key caches.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from common.seeding import seed_everything
from common.threads import default_threads


@dataclass(frozen=True)
class TrainConfig:
    """Fields, with their defaults:

    model (str, "minilm"): a common.models name, a local folder or a Hugging Face id.
    epochs (int, 1), batch_size (int, 16), learning_rate (float, 5e-5), weight_decay (float, 0.01),
        warmup_ratio (float, 0.1), max_grad_norm (float, 1.0): AdamW, linear warm-up then linear
        decay, gradients clipped to max_grad_norm.
    max_length (int, 256): tokens per input; a text pair is truncated longest side first.
    seed (int, 42): seeds python, numpy and torch, so the new head's init and the data order.
    threads (int, common.threads.default_threads() when the config is made): torch CPU threads.
        Recorded in the config, so in every cache key and result: float sums depend on it.
    deterministic (bool, True): torch.use_deterministic_algorithms (warn_only) while training.
    show_progress_bar (bool, True): a tqdm bar over the steps.
    lora (bool, False): train LoRA adapters plus the task head instead of every weight.
    lora_r (int, 8), lora_alpha (int, 16), lora_dropout (float, 0.05): the adapters.
    lora_target_modules (tuple of str or None): the layers that get adapters (None: peft's
        default for the architecture: query/value for BERT, q_proj/v_proj for Llama).
    """

    model: str = "minilm"
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    max_length: int = 256
    seed: int = 42
    threads: int = field(default_factory=default_threads)
    deterministic: bool = True
    show_progress_bar: bool = True
    lora: bool = False
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] | None = None


@contextlib.contextmanager
def training_session(cfg: TrainConfig):
    """Inside the block: every generator seeded with cfg.seed, torch on cfg.threads threads and,
    with cfg.deterministic, torch's deterministic algorithms (a warning, not an error, for an op
    that has none). Thread count and the deterministic flag are restored on exit."""
    import torch

    threads = torch.get_num_threads()
    flag, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # what deterministic cuBLAS needs, on GPU
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(cfg.deterministic, warn_only=True)
    seed_everything(cfg.seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(flag, warn_only=warn_only)
