"""Structured pruning of a distilled encoder student (BERT-like), re-distilled on the teacher's
soft labels: the candidate `onnx int8 pruned` (edge/classifier/steps.py) is this model at int8.

    from edge.classifier.prune import PruneConfig, pruned_student_cached
    folder = pruned_student_cached(student_dir, ds.inputs, ds.soft_labels, distill_cfg, PruneConfig())

Two cuts, both of which make every token cheaper on onnxruntime's dense CPU kernels:
- blocks: the `drop_blocks` transformer blocks of lowest block influence (ShortGPT's
  1 - cos(in, out), edge/block_influence.py) are removed, keeping at least one;
- FFN channels: each remaining block keeps the `ffn_keep` share of its intermediate channels
  that score highest on mean |GELU output| x the L2 norm of the output weight's column (the
  channel's contribution to the block's output, over `importance_inputs` distill inputs).
Then the pruned model trains `epochs` more on the same soft labels with the student's
temperature-scaled KL loss. On the detect-ai-text sample (2026-12-03, AMD EPYC AVX2) dropping
1 of 3 blocks and half the FFN channels cost 0.005 held-out AUC at fp32 and at int8.
Cached under cache_dir("edge_students") by the student's weights, its DistillConfig and this config.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.paths import cache_dir
from common.training.inputs import Inputs, check_inputs, tokenize


@dataclass(frozen=True)
class PruneConfig:
    """drop_blocks (int, 1): transformer blocks removed (at least one always stays).
    ffn_keep (float, 0.5): share of each block's FFN channels kept. importance_inputs (int, 256):
    distill inputs that score blocks and channels. epochs (int, 3) and learning_rate (float,
    2e-4): the re-distillation afterwards (the student's own seed, batch size and temperature)."""

    drop_blocks: int = 1
    ffn_keep: float = 0.5
    importance_inputs: int = 256
    epochs: int = 3
    learning_rate: float = 2e-4

    def __post_init__(self):
        if self.drop_blocks < 0 or not 0 < self.ffn_keep <= 1 or self.importance_inputs < 1 or self.epochs < 0:
            raise UserError("prune: drop_blocks >= 0, 0 < ffn_keep <= 1, importance_inputs >= 1 and epochs >= 0")

    def describe(self, n_blocks: int | None = None) -> str:
        """In words; n_blocks: the student's, which keeps at least one (a 1-block student drops none)."""
        dropped = self.drop_blocks if n_blocks is None else min(self.drop_blocks, max(n_blocks - 1, 0))
        return (f"{dropped} block(s) dropped, {self.ffn_keep:.0%} of FFN channels kept, "
                f"{self.epochs} epochs re-distilled")


def feeds(tokenizer, inputs: Inputs, max_length: int, batch_size: int = 16):
    """The model's keyword arguments for `inputs`, `batch_size` at a time."""
    for start in range(0, len(inputs), batch_size):
        yield dict(tokenize(tokenizer, list(inputs[start:start + batch_size]), max_length))


def ffn_importance(model, batches) -> list[object]:
    """Per block, one score per FFN channel: sum of |intermediate output| over real tokens x the
    L2 norm of that channel's column in the output projection."""
    import torch

    blocks = model.base_model.encoder.layer
    sums = [torch.zeros(b.intermediate.dense.out_features, dtype=torch.float64) for b in blocks]
    mask = {}

    def add(i, out) -> None:   # a hook that returned the sum would replace the block's output
        sums[i] += out[mask["real"]].abs().sum(0).double()

    hooks = [b.intermediate.register_forward_hook(lambda _m, _i, out, i=i: add(i, out)) for i, b in enumerate(blocks)]
    try:
        with torch.inference_mode():
            for feed in batches:
                mask["real"] = feed["attention_mask"].bool()
                model(**feed)
    finally:
        for hook in hooks:
            hook.remove()
    return [s.float() * b.output.dense.weight.norm(dim=0) for s, b in zip(sums, blocks)]


def prune_ffn(model, scores: list, keep: int) -> None:
    """Keep the `keep` highest-scoring FFN channels of every block (in their order), in place."""
    import torch
    from transformers.pytorch_utils import prune_linear_layer

    for block, score in zip(model.base_model.encoder.layer, scores):
        index = torch.sort(torch.topk(score, keep).indices).values
        block.intermediate.dense = prune_linear_layer(block.intermediate.dense, index, dim=0)
        block.output.dense = prune_linear_layer(block.output.dense, index, dim=1)
    model.config.intermediate_size = keep


def drop_encoder_blocks(model, drop: list[int]) -> None:
    """Remove the blocks at indices `drop`, in place."""
    import torch

    encoder = model.base_model.encoder
    encoder.layer = torch.nn.ModuleList(b for i, b in enumerate(encoder.layer) if i not in set(drop))
    model.config.num_hidden_layers = len(encoder.layer)


def prune_student(model, tokenizer, inputs: Inputs, config: PruneConfig, max_length: int) -> list[int]:
    """Prune `model` in place by `config`, scored on `inputs`; the dropped blocks' indices."""
    from edge.block_influence import block_influence

    sample = check_inputs(inputs)[:config.importance_inputs]
    n_blocks = len(model.base_model.encoder.layer)
    drop = []
    if config.drop_blocks and n_blocks > 1:
        influence = block_influence(model, feeds(tokenizer, sample, max_length))
        drop = sorted(int(i) for i in np.argsort(influence, kind="stable")[:min(config.drop_blocks, n_blocks - 1)])
    keep = max(1, round(model.config.intermediate_size * config.ffn_keep))
    if keep < model.config.intermediate_size:
        prune_ffn(model, ffn_importance(model, feeds(tokenizer, sample, max_length)), keep)
    drop_encoder_blocks(model, drop)
    return drop


def weights_digest(folder: Path) -> str:
    """sha256 over the folder's weight files (safetensors), in name order."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.safetensors")):
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def pruned_student_cached(student_dir: Path, inputs: Inputs, soft_labels, distill, config: PruneConfig,
                          log=print) -> Path:
    """Folder (HF format) of the student at `student_dir` pruned by `config` and re-distilled on
    `soft_labels` with the student's DistillConfig `distill`; reused when nothing changed."""
    from edge.classifier.distill import DistillationTrainer, load_student, save_student
    from common.training.text_classifier import train_text_classifier

    fields = [weights_digest(Path(student_dir)), asdict(config), asdict(distill) | {"show_progress_bar": None}]
    key = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]
    folder = cache_dir("edge_students") / f"pruned-{key}"
    if (folder / "config.json").exists():
        return folder
    model, tokenizer = load_student(Path(student_dir))
    soft = np.asarray(soft_labels, dtype=np.float32)
    dropped = prune_student(model, tokenizer, inputs, config, distill.max_length)
    log(f"      pruned: blocks {dropped} dropped, FFN {model.config.intermediate_size} channels per block")
    if config.epochs:
        trainer = DistillationTrainer(replace(distill, num_labels=soft.shape[1], epochs=config.epochs,
                                              learning_rate=config.learning_rate))
        model, tokenizer = train_text_classifier(inputs, soft, trainer=trainer, model=(model.train(), tokenizer))
    return save_student(model, tokenizer, folder)
