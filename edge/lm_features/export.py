"""A causal LM's next-token statistics as an ONNX model, and the PyTorch module it is traced from.

    module = TokenStatsModule(lm)                   # lm: a transformers causal LM, eager attention
    module(input_ids, attention_mask)               # (B, T-1, 3): logprob, entropy, rank of token t+1
    module(input_ids, attention_mask, torch.tensor([s]))   # (B, T-1-s, 3): the positions from s on
    path = export_token_stats(module, Path("build/edge/x/student.export.onnx"))
    report = check_stats_parity(module, path, [[1, 2, 3, 4], ...])     # max |onnx - torch|

Only the three numbers per position leave the graph, never the (T, vocabulary) logits, so the
device moves kilobytes, not megabytes, per response. A pair's question is context only: the
graph input STATS_FROM (an initializer [0] that is also an input, which onnxruntime treats as an
input with a default) skips the LM head and the vocabulary-wide statistics for the positions
before it (transformers' `logits_to_keep` with the positions to keep). The rank counts the logits
above the token's in float32 (exact below 2**24; an int64 count makes onnxruntime cast and sum
the whole (T, vocabulary) array as int64, several times slower). Exporter: the TorchScript
exporter at the classifier's opset (edge.classifier.export.OPSET), dynamic batch and sequence axes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from edge.classifier.export import OPSET, ParityReport
from edge.runtime.lm_features import STATS_FROM, LmFeatureClassifier

PARITY_SEQUENCES = 8


def _module_class():
    import torch

    class TokenStatsModule(torch.nn.Module):
        def __init__(self, lm):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids, attention_mask, stats_from=None):
            start = stats_from[0] if stats_from is not None else 0
            positions = torch.arange(start, input_ids.shape[1] - 1, device=input_ids.device)  # (P,)
            logits = self.lm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False,
                             logits_to_keep=positions).logits.float()         # (B, P, V)
            target = input_ids.index_select(1, positions + 1)[..., None]    # each position's next token
            logp = torch.log_softmax(logits, dim=-1)
            chosen = logp.gather(-1, target)[..., 0]
            entropy = -(logp.exp() * logp).sum(-1)
            rank = (logits > logits.gather(-1, target)).float().sum(-1)
            return torch.stack([chosen, entropy, rank], dim=-1)              # (B, P, 3)

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
    """(ids, start=0) -> (len(ids) - 1 - start, 3) numpy, through the PyTorch module (the
    runtime's stats_fn)."""
    import torch

    def run(ids: list[int], start: int = 0) -> np.ndarray:
        if threads:
            torch.set_num_threads(threads)
        x = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            return module(x, torch.ones_like(x), torch.tensor([start]))[0].double().numpy()
    return run


def export_token_stats(module, path: Path, opset: int = OPSET) -> Path:
    import torch

    import onnx
    from onnx import numpy_helper

    example = torch.tensor([[1, 2, 3, 4, 5, 6]], dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
            "stats": {0: "batch", 1: "positions"}}
    with atomic_path(Path(path), suffix=".onnx") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the tracer's notes on python control flow
        torch.onnx.export(module, (example, torch.ones_like(example), torch.tensor([1])), str(tmp),
                          input_names=["input_ids", "attention_mask", STATS_FROM], output_names=["stats"],
                          dynamic_axes=axes, opset_version=opset, dynamo=False)
        model = onnx.load(str(tmp))
        model.graph.initializer.append(numpy_helper.from_array(np.array([0], np.int64), STATS_FROM))
        onnx.save(model, str(tmp))
    return Path(path)


def check_stats_parity(module, path: Path, sequences: list[list[int]]) -> ParityReport:
    """Largest |onnx - torch| over the log-probability and entropy columns (rank is an integer
    count that a tie may move by one, so it is left out), every position and those from the
    middle on (STATS_FROM fed); max_prob_diff: the same on exp(logprob)."""
    onnx_fn = LmFeatureClassifier._onnx_stats_fn(path, threads=0)   # the device's own session; 0: all cores
    torch_fn = torch_stats_fn(module)
    worst, worst_prob = 0.0, 0.0
    for ids in sequences[:PARITY_SEQUENCES]:
        for start in (0, (len(ids) - 1) // 2):
            got, ref = onnx_fn(ids, start), torch_fn(ids, start)
            worst = max(worst, float(np.max(np.abs(got[:, :2] - ref[:, :2]))))
            worst_prob = max(worst_prob, float(np.max(np.abs(np.exp(got[:, 0]) - np.exp(ref[:, 0])))))
    return ParityReport(max_abs_diff=worst, max_prob_diff=worst_prob, texts=min(len(sequences), PARITY_SEQUENCES))
