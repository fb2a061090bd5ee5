"""A fine-tuned multiple-choice encoder (AutoModelForMultipleChoice) as an int8 ONNX pair scorer:
(first, second) in, one logit out, the device scores each option's pair alone.

    from edge.retriever.choice import export_choice_scorer
    files, parity, agreement = export_choice_scorer(model, tokenizer, Path("build/edge/x"), pairs, 48)
    files["ship"]       # choice.int8.onnx or choice.fp32.onnx: input_ids, attention_mask, token_type_ids -> logits (B, 1)

AutoModelForMultipleChoice reshapes (questions, options, tokens) into one batch of pairs, runs the
encoder, and maps each pair's pooled vector to one logit; the exported graph is that per-pair part
(so the device needs no options axis), exported, fused and quantized as the retrieval encoder is
(edge/retriever/encoder.py: dynamic int8 with per-channel weights). Parity is checked on the
pairs' logits against PyTorch; `agreement` is the share of questions whose best option the int8
graph picks as fp32 does, over `pairs` taken five at a time. The int8 graph ships only when that
share reaches INT8_AGREEMENT; else the fp32 graph does. A fine-tuned model's option logits lie
close together, so int8's rounding reorders them more than it moves a sentence vector: on the
science-exam sample (the full-data model, 100 test questions, the host's contexts) int8 kept the
best option of 79% of the questions, fp32 of all, at 9.6 against 31 ms a question (x86, 1 thread).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.classifier.export import ParityReport, check_parity, export_onnx, fuse_for_cpu
from edge.quantize import quantize_int8
from edge.retriever.encoder import onnx_vectors

OPTIONS = 5
INT8_AGREEMENT = 0.95   # share of parity questions whose best option int8 must keep for int8 to ship


def pair_module(model):
    """The multiple-choice model's per-pair scorer: its output's `.logits` is (B, 1)."""
    import torch
    from types import SimpleNamespace

    class PairScorer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            base = getattr(self.model, self.model.base_model_prefix)
            pooled = base(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[1]
            return SimpleNamespace(logits=self.model.classifier(self.model.dropout(pooled)))   # (B, 1)

    return PairScorer().eval()


def export_choice_scorer(model, tokenizer, out: Path, pairs: list[tuple[str, str]], max_length: int
                         ) -> tuple[dict[str, Path], ParityReport, float]:
    """({"fp32", "int8", "ship", "tokenizer"} paths, fp32 parity against PyTorch on `pairs`, the share
    of questions (`pairs` in groups of five options) whose best option int8 and fp32 agree on);
    "ship" is int8 when that share reaches INT8_AGREEMENT, else fp32."""
    import tempfile

    model.set_attn_implementation("eager")       # so fuse_for_cpu finds the attention pattern
    module = pair_module(model)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fp32 = export_onnx(module, tokenizer, out / "choice.fp32.onnx")
    parity = check_parity(module, tokenizer, fp32, pairs, max_length=max_length)
    config = model.config
    fused = fuse_for_cpu(fp32, out / "choice.fused.onnx", config.num_attention_heads, config.hidden_size)
    int8 = quantize_int8(fused, out / "choice.int8.onnx", per_channel=True)
    a, b = (onnx_vectors(p, tokenizer, pairs, max_length)[:, 0] for p in (fp32, int8))   # one session each
    whole = len(pairs) // OPTIONS * OPTIONS
    agreement = float(np.mean(a[:whole].reshape(-1, OPTIONS).argmax(1) == b[:whole].reshape(-1, OPTIONS).argmax(1))) \
        if whole else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save_pretrained(tmp)
        (out / "choice_tokenizer.json").write_bytes((Path(tmp) / "tokenizer.json").read_bytes())
    ship = int8 if agreement >= INT8_AGREEMENT else fp32
    return {"fp32": fp32, "int8": int8, "ship": ship, "tokenizer": out / "choice_tokenizer.json"}, parity, agreement
