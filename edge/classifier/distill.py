"""Distillation: a small student (MiniLM cut to its first few layers) learns the teacher's soft
labels, over texts or text pairs, with a temperature-scaled KL loss.

    from edge.classifier.distill import DistillConfig, distill_student, save_student
    model, tokenizer = distill_student(inputs, soft_labels, DistillConfig(num_layers=2))
    student_dir = save_student(model, tokenizer, Path("build/edge/student"))

`distill_student_cached` keeps the trained student under cache_dir("edge_students") keyed by a
hash of the inputs, soft labels and config, so a rerun skips training.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from common.atomic import atomic_dir
from common.paths import cache_dir
from common.training.inputs import Inputs, check_inputs
from common.training.text_classifier import TextClassifierConfig, TextClassifierTrainer, train_text_classifier


@dataclass(frozen=True)
class DistillConfig(TextClassifierConfig):
    """TextClassifierConfig (model, num_layers, epochs, batch_size, learning_rate, max_length,
    seed, threads, lora...) with the student's defaults: 3 of MiniLM's 6 layers, 128 tokens,
    4 epochs at 2e-4 (on the detect-ai-text sample, 2 layers / 2 epochs / 1e-4 left the int8
    student 0.038 AUC below the teacher; 3 / 4 / 2e-4 left it 0.005 below), plus
    temperature (float, 2.0): softens teacher and student. num_labels follows the soft labels."""

    num_layers: int | None = 3
    max_length: int = 128
    epochs: int = 4
    learning_rate: float = 2e-4
    temperature: float = 2.0


class DistillationTrainer(TextClassifierTrainer):
    """Hinton-style distillation: KL(teacher^(1/T) || student(logits / T)) * T^2. The teacher
    gives probabilities; raising them to 1/T and renormalising equals dividing its logits by T."""

    def __init__(self, cfg: DistillConfig):
        super().__init__(cfg)
        self.temperature = cfg.temperature

    def loss(self, logits, targets):
        import torch

        t = self.temperature
        teacher = torch.log(targets.clamp_min(1e-6)) / t
        teacher = torch.softmax(teacher, dim=-1)
        student = torch.log_softmax(logits / t, dim=-1)
        return torch.nn.functional.kl_div(student, teacher, reduction="batchmean") * t * t


def distill_student(inputs: Inputs, soft_labels, config: DistillConfig | None = None):
    """(student model in eval mode, tokenizer) trained on the teacher's soft labels (n, K)."""
    soft = np.asarray(soft_labels, dtype=np.float32)
    config = replace(config or DistillConfig(), num_labels=soft.shape[1])
    return train_text_classifier(check_inputs(inputs), soft, trainer=DistillationTrainer(config))


def save_student(model, tokenizer, folder: Path) -> Path:
    """save_pretrained into a temp folder beside `folder`, then rename (atomic)."""
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return folder


def load_student(folder: Path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def student_key(inputs: Inputs, soft_labels: np.ndarray, config: DistillConfig) -> str:
    config = replace(config, num_labels=soft_labels.shape[1])
    digest = hashlib.sha256(json.dumps(asdict(config) | {"show_progress_bar": None}, sort_keys=True).encode())
    for item in inputs:
        text = item if isinstance(item, str) else json.dumps(list(item))
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    digest.update(np.ascontiguousarray(np.round(soft_labels, 6), dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def distill_student_cached(inputs: Inputs, soft_labels, config: DistillConfig | None = None) -> Path:
    """Folder of the trained student (HF format), reused when inputs and config are the same."""
    config = config or DistillConfig()
    inputs, soft = check_inputs(inputs), np.asarray(soft_labels, dtype=np.float32)
    folder = cache_dir("edge_students") / f"student-{student_key(inputs, soft, config)}"
    if not (folder / "config.json").exists():
        model, tokenizer = distill_student(inputs, soft, config)
        save_student(model, tokenizer, folder)
    return folder
