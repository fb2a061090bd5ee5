"""Static int8 for an encoder student: activation ranges calibrated once, on the distill set.

    feeds = calibration_feeds(tokenizer, inputs[:64], max_length=256)
    quantize_static_int8(Path("student.export.onnx"), Path("student.int8-static.onnx"), feeds,
                         num_heads=12, hidden_size=384)

Dynamic int8 (edge/quantize.py) measures every activation's range at run time; static int8 fixes
the ranges from calibration batches, so no range is computed per call and the int8 tensors can
flow between operators. The graph is fused first by onnxruntime's transformer optimizer
(LayerNorm, GELU, embedding; edge/classifier/export.py) with attention fusion off, so the Q, K and V
projections stay MatMuls and are quantized too (a fused Attention op has no QDQ form); then QDQ
with per-channel int8 weights, asymmetric uint8 activations (min-max calibration) and
reduce_range (7-bit weights: AVX2 without VNNI would saturate u8*s8 sums otherwise).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.errors import UserError
from edge.classifier.export import INPUT_NAMES, cpu_fusion_options
from common.training.inputs import tokenize


def calibration_feeds(tokenizer, inputs: list, max_length: int, batch_size: int = 8) -> list[dict[str, np.ndarray]]:
    """The model's input dicts for `inputs` (texts or pairs), in batches of `batch_size`."""
    feeds = []
    for i in range(0, len(inputs), batch_size):
        enc = tokenize(tokenizer, inputs[i:i + batch_size], max_length, return_tensors="np", return_token_type_ids=True)
        feeds.append({name: enc[name].astype(np.int64) for name in INPUT_NAMES})
    return feeds


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over a list of feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self.feeds = iter(feeds)

    def get_next(self):
        return next(self.feeds, None)


def quantize_static_int8(raw: Path, dst: Path, feeds: list[dict[str, np.ndarray]], num_heads: int,
                         hidden_size: int) -> Path:
    """`raw` (the torch export) fused without attention, then static QDQ int8, written to `dst`."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    from onnxruntime.transformers.optimizer import optimize_model

    from edge.quantize import without_preprocessing_advice

    if not Path(raw).is_file():
        raise UserError(f"missing ONNX model: {raw}")
    if not feeds:
        raise UserError("static int8 needs calibration inputs")
    fused = optimize_model(str(raw), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                           optimization_options=cpu_fusion_options(attention=False), opt_level=0)
    with tempfile.TemporaryDirectory(prefix=".static-int8-", dir=Path(dst).parent) as work:
        fused_path = Path(work) / "fused.onnx"
        # the fused contrib ops defeat onnx's shape inference, and a tensor of unknown type is
        # left in float by the quantizer: infer them with onnxruntime's symbolic inference
        typed = SymbolicShapeInference.infer_shapes(fused.model, auto_merge=True)
        if not any(o.domain == "com.microsoft" for o in typed.opset_import):
            typed.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
        onnx.save(typed, str(fused_path))
        with atomic_path(Path(dst), suffix=".onnx") as tmp, without_preprocessing_advice():
            quantize_static(str(fused_path), str(tmp), _Reader(feeds), quant_format=QuantFormat.QDQ,
                            op_types_to_quantize=["MatMul"], per_channel=True, reduce_range=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=CalibrationMethod.MinMax)
    return Path(dst)
