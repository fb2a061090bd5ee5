"""The feature student's head over the runtime's features (edge/runtime/lm_features.py), fitted to
the teacher's soft labels, and the Sinkhorn power that best matches them.

    cfg = FeatureStudentConfig(model="smollm2")              # head="gbdt": boosted trees (trees.py)
    head = fit_head(x, soft_labels, questions, cfg)          # dict: kind, trees | weights, power, clip
    runtime_settings(tokenizer, cfg)                         # prompt_prefix/suffix and token limits

"gbdt" (default): one LightGBM cross-entropy model per class (edge/lm_features/trees.py). On
predict-the-llm's sample it took the held-out accuracy from 0.899 (linear) to 0.946, the
teacher's being 0.970: the teacher's strongest member is LightGBM over the same statistics.
"linear": a softmax layer, cross-entropy against the soft labels (the distillation loss at
temperature 1), full batch, AdamW with weight decay, a fixed number of steps. Both are seeded:
the same features give the same head.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from common.training.config import TrainConfig, training_session

POWER_GRID = tuple(np.round(np.arange(0.5, 3.01, 0.1), 2))
PLACEHOLDER = "\x00"


@dataclass(frozen=True)
class FeatureStudentConfig(TrainConfig):
    """TrainConfig (seed, threads, deterministic, learning_rate, weight_decay...) with:
    model: causal LM whose token statistics are features (a model-zoo name or folder) [smollm2]
    max_prompt_tokens / max_response_tokens: tokens kept of the templated question (its end) and
        of the response (its start) [256 / 128]
    head: "gbdt" (boosted trees per class) or "linear" [gbdt]
    trees / leaves / tree_learning_rate: each class's LightGBM [400 / 15 / 0.05]
    power_folds: question-grouped folds whose held-out probabilities choose the gbdt power [5]
    steps: full-batch AdamW steps of the linear head [1500]; learning_rate [0.01]; weight_decay [0.001]
    clip: floor on every probability [0.001]."""

    model: str = "smollm2"
    max_prompt_tokens: int = 256
    max_response_tokens: int = 128
    steps: int = 1500
    learning_rate: float = 0.01
    weight_decay: float = 1e-3
    clip: float = 1e-3
    head: str = "gbdt"
    trees: int = 400
    leaves: int = 15
    tree_learning_rate: float = 0.05
    power_folds: int = 5

    def __post_init__(self):
        if self.head not in HEADS:
            raise UserError(f"lm_features head {self.head!r} is not one of {', '.join(HEADS)}")


HEADS = ("gbdt", "linear")


def runtime_settings(tokenizer, cfg: FeatureStudentConfig) -> dict:
    """How the device wraps a question: the LM's chat template around it, split at the question."""
    from common.llm.generation import GenerationConfig, render_prompt

    rendered = render_prompt(tokenizer, PLACEHOLDER, GenerationConfig(chat_template=True))
    prefix, suffix = rendered.split(PLACEHOLDER, 1)
    return {"prompt_prefix": prefix, "prompt_suffix": suffix, "max_prompt_tokens": cfg.max_prompt_tokens,
            "max_response_tokens": cfg.max_response_tokens}


def _cross_entropy(soft: np.ndarray, probs: np.ndarray) -> float:
    return float(-(soft * np.log(np.clip(probs, 1e-15, 1))).sum(axis=1).mean())


def fit_head(x: np.ndarray, soft_labels: np.ndarray, questions: list[str], cfg: FeatureStudentConfig) -> dict:
    """The head of kind cfg.head fitted to the soft labels, with its balancing power."""
    if cfg.head == "gbdt":
        from edge.lm_features.trees import fit_tree_head

        return fit_tree_head(x, soft_labels, questions, cfg)
    return fit_linear_head(x, soft_labels, questions, cfg)


def fit_linear_head(x: np.ndarray, soft_labels: np.ndarray, questions: list[str], cfg: FeatureStudentConfig) -> dict:
    """Standardize x, fit softmax(z W + b) to the soft labels, then pick the balancing power."""
    import torch

    from edge.runtime.lm_features import balance

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    with training_session(cfg):
        z = torch.tensor((x - mean) / scale, dtype=torch.float32)
        soft = torch.tensor(soft_labels, dtype=torch.float32)
        layer = torch.nn.Linear(z.shape[1], soft.shape[1])
        opt = torch.optim.AdamW(layer.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        for _ in range(cfg.steps):
            opt.zero_grad()
            loss = -(soft * torch.log_softmax(layer(z), dim=-1)).sum(dim=1).mean()
            loss.backward()
            opt.step()
        with torch.no_grad():
            probs = torch.softmax(layer(z), dim=-1).double().numpy()
        weight, bias = layer.weight.detach().double().numpy().T, layer.bias.detach().double().numpy()
    power = min(POWER_GRID, key=lambda p: _cross_entropy(soft_labels, balance(probs, questions, float(p))))
    return {"kind": "linear", "mean": mean.tolist(), "scale": scale.tolist(), "weight": weight.tolist(), "bias": bias.tolist(),
            "power": float(power), "clip": cfg.clip, "train_cross_entropy": round(float(loss.item()), 6)}
