"""A sentence encoder (sentence-transformers: transformer -> mean pooling -> L2 normalize) as an
int8 ONNX model for the device, through the classifier's exporter and quantizer.

    from edge.retriever.encoder import export_encoder
    files, parity, cosine = export_encoder("minilm", Path("build/edge/science-exam"), texts)
    files["int8"]          # encoder.int8.onnx: input_ids, attention_mask, token_type_ids -> (B, D) vectors

The pooling and normalization are inside the graph, so the device runs one session and reads the
vector (the graph's output keeps the classifier's name, `logits`). Parity is the classifier's
check (edge.classifier.export.check_parity) on the pooled vectors; the int8 model's agreement with
fp32 is measured as the cosine of the two vectors over the same texts.

Quantization: the classifier's fusions (fuse_for_cpu), then dynamic int8 with per-channel
weights. Per-tensor weights, the detector's setting, lost too much here: on 40 of the sample's
test questions the smallest int8-vs-fp32 cosine was 0.78 (mean 0.87), fused or not; per-channel
0.990 (mean 0.993).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edge.classifier.export import ParityReport, check_parity, export_onnx, fuse_for_cpu, onnx_session
from edge.quantize import quantize_int8


def pooled_module(transformer):
    """The transformer with sentence-transformers' mean pooling and L2 normalization; its output's
    `.logits` is the (B, D) sentence vector, which export_onnx and check_parity read."""
    import torch
    from types import SimpleNamespace

    class Pooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=token_type_ids).last_hidden_state         # (B, T, H)
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)                               # (B, T, 1)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)                         # (B, H)
            return SimpleNamespace(logits=torch.nn.functional.normalize(mean, dim=-1))

    return Pooled().eval()


def onnx_vectors(path: Path, tokenizer, texts: list[str], max_length: int) -> np.ndarray:
    from edge.classifier.export import onnx_logits

    session = onnx_session(path, threads=1)
    return np.concatenate([onnx_logits(session, tokenizer, [t], max_length) for t in texts])   # (N, D)


def export_encoder(encoder: str, out: Path, parity_texts: list[str], max_length: int = 128
                   ) -> tuple[dict[str, Path], ParityReport, float]:
    """({"fp32", "int8", "tokenizer"} paths, fp32 parity against PyTorch, the smallest int8-vs-fp32
    cosine over `parity_texts`)."""
    from common.models import encoder_path, load_sentence_encoder

    st = load_sentence_encoder(encoder)
    transformer, tokenizer = st[0].auto_model, st[0].tokenizer
    transformer.set_attn_implementation("eager")     # so fuse_for_cpu finds the attention pattern
    module = pooled_module(transformer)
    out = Path(out)
    fp32 = export_onnx(module, tokenizer, out / "encoder.fp32.onnx")
    parity = check_parity(module, tokenizer, fp32, parity_texts, max_length=max_length)
    config = transformer.config
    fused = fuse_for_cpu(fp32, out / "encoder.fused.onnx", config.num_attention_heads, config.hidden_size)
    int8 = quantize_int8(fused, out / "encoder.int8.onnx", per_channel=True)
    a, b = (onnx_vectors(p, tokenizer, parity_texts, max_length) for p in (fp32, int8))
    cosine = float(np.min(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))
    return {"fp32": fp32, "int8": int8, "tokenizer": encoder_path(encoder) / "tokenizer.json"}, parity, cosine
