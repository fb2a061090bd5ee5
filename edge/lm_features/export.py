"""A causal LM's next-token statistics as an ONNX model, and the PyTorch module it is traced from.

    module = TokenStatsModule(lm)                   # lm: a transformers causal LM, eager attention
    module(input_ids, attention_mask)               # (B, T-1, 3): logprob, entropy, rank of token t+1
    path = export_token_stats(module, Path("build/edge/x/student.export.onnx"))
    report = check_stats_parity(module, path, [[1, 2, 3, 4], ...])     # max |onnx - torch|

Only the three numbers per position leave the graph, never the (T, vocabulary) logits, so the
device moves kilobytes, not megabytes, per response. Exporter: the TorchScript exporter at the
classifier's opset (edge.classifier.export.OPSET), dynamic batch and sequence axes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from edge.classifier.export import OPSET, ParityReport

PARITY_SEQUENCES = 8


def _module_class():
    import torch

    class TokenStatsModule(torch.nn.Module):
        def __init__(self, lm):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids, attention_mask):
            logits = self.lm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
            logits = logits[:, :-1].float()                                   # (B, T-1, V)
            target = input_ids[:, 1:, None]
            logp = torch.log_softmax(logits, dim=-1)
            chosen = logp.gather(-1, target)[..., 0]
            entropy = -(logp.exp() * logp).sum(-1)
            rank = (logits > logits.gather(-1, target)).sum(-1).to(logits.dtype)
            return torch.stack([chosen, entropy, rank], dim=-1)              # (B, T-1, 3)

    return TokenStatsModule


def TokenStatsModule(lm):  # noqa: N802 - builds the torch module lazily (torch imports on use)
    return _module_class()(lm).eval()


def load_lm_for_export(path: Path):
    """(model, tokenizer) in float32 with eager attention (traceable), eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="eager", dtype=torch.float32)
    return model.eval(), AutoTokenizer.from_pretrained(path)


def torch_stats_fn(module, threads: int | None = None):
    """ids -> (len(ids) - 1, 3) numpy, through the PyTorch module (the runtime's stats_fn)."""
    import torch

    def run(ids: list[int]) -> np.ndarray:
        if threads:
            torch.set_num_threads(threads)
        x = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            return module(x, torch.ones_like(x))[0].double().numpy()
    return run


def export_token_stats(module, path: Path, opset: int = OPSET) -> Path:
    import torch

    example = torch.tensor([[1, 2, 3, 4, 5, 6]], dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "stats": {0: "batch", 1: "positions"}}
    with atomic_path(Path(path), suffix=".onnx") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the tracer's notes on python control flow
        torch.onnx.export(module, (example, torch.ones_like(example)), str(tmp), input_names=["input_ids", "attention_mask"],
                          output_names=["stats"], dynamic_axes=axes, opset_version=opset, dynamo=False)
    return Path(path)


def check_stats_parity(module, path: Path, sequences: list[list[int]]) -> ParityReport:
    """Largest |onnx - torch| over the log-probability and entropy columns (rank is an integer
    count that a tie may move by one, so it is left out); max_prob_diff: the same on exp(logprob)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    torch_fn = torch_stats_fn(module)
    worst, worst_prob = 0.0, 0.0
    for ids in sequences[:PARITY_SEQUENCES]:
        x = np.asarray([ids], dtype=np.int64)
        (onnx_stats,) = session.run(["stats"], {"input_ids": x, "attention_mask": np.ones_like(x)})
        ref = torch_fn(ids)
        worst = max(worst, float(np.max(np.abs(onnx_stats[0][:, :2] - ref[:, :2]))))
        worst_prob = max(worst_prob, float(np.max(np.abs(np.exp(onnx_stats[0][:, 0]) - np.exp(ref[:, 0])))))
    return ParityReport(max_abs_diff=worst, max_prob_diff=worst_prob, texts=min(len(sequences), PARITY_SEQUENCES))
