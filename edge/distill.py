"""Distillation: a small student (MiniLM cut to its first few layers) learns the teacher's soft
labels with a temperature-scaled KL loss.

    from edge.distill import DistillConfig, distill_student
    model, tokenizer = distill_student(texts, soft_labels, DistillConfig(num_layers=2))
    student_dir = save_student(model, tokenizer, Path("build/edge/student"))

`distill_student_cached` keeps the trained student under cache_dir("edge_students") keyed by a
hash of the texts, soft labels and config, so a rerun skips training.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from common.paths import cache_dir
from common.training.text_classifier import TextClassifierConfig, TextClassifierTrainer, train_text_classifier


@dataclass
class DistillConfig:
    """encoder: teacher-independent starting weights (model-zoo name, "minilm").
    num_layers: student depth, the first N of the encoder's layers (3 of MiniLM's 6).
    max_length: tokens per text (128). temperature: softens teacher and student (2.0).
    epochs, batch_size, lr: optimisation (on the detect-ai-text sample, 2 layers / 2 epochs /
    1e-4 left the int8 student 0.038 AUC below the teacher; 3 / 4 / 2e-4 left it 0.005 below).
    seed: every random step. threads: torch CPU threads."""

    encoder: str = "minilm"
    num_layers: int = 3
    max_length: int = 128
    temperature: float = 2.0
    epochs: int = 4
    batch_size: int = 16
    lr: float = 2e-4
    seed: int = 42
    threads: int = 2
    show_progress_bar: bool = True

    def classifier_config(self, num_labels: int) -> TextClassifierConfig:
        return TextClassifierConfig(model=self.encoder, num_layers=self.num_layers, num_labels=num_labels,
                                    max_length=self.max_length, epochs=self.epochs, batch_size=self.batch_size,
                                    learning_rate=self.lr, seed=self.seed, threads=self.threads,
                                    show_progress_bar=self.show_progress_bar)


class DistillationTrainer(TextClassifierTrainer):
    """Hinton-style distillation: KL(teacher^(1/T) || student(logits / T)) * T^2. The teacher
    gives probabilities; raising them to 1/T and renormalising equals dividing its logits by T."""

    def __init__(self, cfg: TextClassifierConfig, temperature: float = 2.0):
        super().__init__(cfg)
        self.temperature = temperature

    def loss(self, logits, targets):
        import torch

        t = self.temperature
        teacher = torch.log(targets.clamp_min(1e-6)) / t
        teacher = torch.softmax(teacher, dim=-1)
        student = torch.log_softmax(logits / t, dim=-1)
        return torch.nn.functional.kl_div(student, teacher, reduction="batchmean") * t * t


def distill_student(texts: list[str], soft_labels, config: DistillConfig | None = None):
    """(student model in eval mode, tokenizer) trained on the teacher's soft labels."""
    config = config or DistillConfig()
    soft = np.asarray(soft_labels, dtype=np.float32)
    trainer = DistillationTrainer(config.classifier_config(soft.shape[1]), temperature=config.temperature)
    return train_text_classifier(list(texts), soft, trainer=trainer)


def save_student(model, tokenizer, folder: Path) -> Path:
    """save_pretrained into a temp folder beside `folder`, then rename (atomic)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def load_student(folder: Path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def student_key(texts: list[str], soft_labels: np.ndarray, config: DistillConfig) -> str:
    digest = hashlib.sha256(json.dumps(asdict(config) | {"show_progress_bar": None}, sort_keys=True).encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    digest.update(np.ascontiguousarray(np.round(soft_labels, 6), dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def distill_student_cached(texts: list[str], soft_labels, config: DistillConfig | None = None) -> Path:
    """Folder of the trained student (HF format), reused when inputs and config are the same."""
    config = config or DistillConfig()
    soft = np.asarray(soft_labels, dtype=np.float32)
    folder = cache_dir("edge_students") / f"student-{student_key(list(texts), soft, config)}"
    if not (folder / "config.json").exists():
        model, tokenizer = distill_student(texts, soft, config)
        save_student(model, tokenizer, folder)
    return folder
