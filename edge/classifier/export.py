"""Export a Hugging Face sequence classifier to ONNX and check it against PyTorch.

    from edge.classifier.export import export_onnx, check_parity
    path = export_onnx(model, tokenizer, Path("build/edge/student.fp32.onnx"))
    report = check_parity(model, tokenizer, path, inputs)    # report.max_abs_diff (logits)

Inputs are texts or (text, text) pairs (common.training.inputs), tokenized the same way here,
in training and, with `tokenizers`, on the device.

Exporter: the TorchScript exporter (`dynamo=False`) at opset 17, chosen explicitly because it
needs no extra package (the dynamo exporter needs onnxscript, which is not installed), handles
BERT's attention mask with plain `dynamic_axes`, and gives a graph onnxruntime's quantizer and
fusions know well. Inputs: input_ids, attention_mask, token_type_ids, each (batch, sequence),
int64; output: logits (batch, num_labels).

The model is traced with eager attention (not SDPA) so that `fuse_for_cpu` can recognise the
attention pattern: onnxruntime's transformer optimizer then fuses it into Attention,
EmbedLayerNormalization and BiasGelu (opt_level 0: pattern fusions only, no hardware-specific
layout, so the file runs the same on x86 and Arm). Int8 quantization then turns Attention into
QAttention, which is where most of the batch-1 speed-up comes from. The residual adds and layer
norms are left unfused: onnxruntime's SkipLayerNormalization is slower on CPU than the Add +
LayerNormalization it replaces (edge/runtime/classifier.py, ENCODER_DISABLED_OPTIMIZERS).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.training.inputs import Inputs, tokenize

OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
DYNAMIC_AXES = {**{name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}, "logits": {0: "batch"}}


@dataclass(frozen=True)
class ParityReport:
    """max_abs_diff: largest |onnx - torch| over all logits; max_prob_diff: same on softmax."""

    max_abs_diff: float
    max_prob_diff: float
    texts: int

    def ok(self, tolerance: float = 1e-4) -> bool:
        return self.max_abs_diff <= tolerance


class _LogitsOnly:
    """Wraps the HF model so the exported graph has exactly one output named logits."""

    def __new__(cls, model):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.model(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).logits  # (B, K)

        return Wrapper().eval()


def export_onnx(model, tokenizer, out_path: Path, opset: int = OPSET) -> Path:
    """Write the model to `out_path` (atomic) with dynamic batch and sequence axes."""
    import torch

    model.eval()
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    sample = tokenizer(["a short example", "a second, slightly longer example text"], padding=True,
                       return_tensors="pt", return_token_type_ids=True)
    args = tuple(sample[name] for name in INPUT_NAMES)
    with atomic_path(Path(out_path), suffix=".onnx") as tmp, torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about python-side shape checks
        torch.onnx.export(_LogitsOnly(model), args, str(tmp), input_names=list(INPUT_NAMES),
                          output_names=["logits"], dynamic_axes=DYNAMIC_AXES, opset_version=opset,
                          do_constant_folding=True, dynamo=False)
    return Path(out_path)


def cpu_fusion_options(attention: bool = True):
    """onnxruntime's BERT fusions for CPU inference: everything but SkipLayerNormalization
    (`attention`: fuse self-attention into one Attention node)."""
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = False
    options.enable_attention = attention
    return options


def fuse_for_cpu(src: Path, dst: Path, num_heads: int, hidden_size: int, options=None) -> Path:
    """Fuse a BERT-like graph with onnxruntime's transformer optimizer (portable fusions only);
    options: a FusionOptions (default: cpu_fusion_options())."""
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                           optimization_options=options or cpu_fusion_options(), opt_level=0)
    with atomic_path(Path(dst), suffix=".onnx") as tmp:
        fused.save_model_to_file(str(tmp))
    return Path(dst)


def onnx_session(path: Path, threads: int = 1):
    """The device runtime's session for an encoder (edge/runtime/classifier.py)."""
    from edge.runtime.classifier import encoder_session

    return encoder_session(Path(path), threads)


def onnx_logits(session, tokenizer, inputs: Inputs, max_length: int) -> np.ndarray:
    enc = tokenize(tokenizer, inputs, max_length, return_tensors="np", return_token_type_ids=True)
    feeds = {name: enc[name].astype(np.int64) for name in INPUT_NAMES}
    return session.run(["logits"], feeds)[0]  # (B, K)


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_parity(model, tokenizer, onnx_path: Path, inputs: Inputs, max_length: int = 128,
                 batch_size: int = 8) -> ParityReport:
    """Run PyTorch and onnxruntime on the same padded batches and compare the logits."""
    import torch

    session, worst, worst_prob = onnx_session(onnx_path, threads=2), 0.0, 0.0
    for start in range(0, len(inputs), batch_size):
        batch = list(inputs[start:start + batch_size])
        enc = tokenize(tokenizer, batch, max_length, return_token_type_ids=True)
        with torch.inference_mode():
            ref = model(**enc).logits.numpy()
        got = onnx_logits(session, tokenizer, batch, max_length)
        worst = max(worst, float(np.abs(got - ref).max()))
        worst_prob = max(worst_prob, float(np.abs(softmax(got) - softmax(ref)).max()))
    return ParityReport(worst, worst_prob, len(inputs))
