"""int8 the way the seeds and the detector quantize: onnxruntime's dynamic quantization (host only).

    from edge.generator.dynamic import quantize_dynamic_int8
    quantize_dynamic_int8(fp32_folder / "model.onnx", out_folder)   # out_folder/model.onnx(.data)

Every MatMul with a constant weight becomes a MatMulInteger (its weight int8 per output channel,
at 7 bits as the detector's: `reduce_range`, since an x86 CPU without VNNI sums u8*s8 products in
pairs into int16, which full 8-bit weights saturate)
after a DynamicQuantizeLinear of its input (one per distinct input: the activations rounded to
uint8 at run time with one scale and zero point per tensor; a decode step's tensor is its one
token), then a Cast and a Mul by the two scales; onnxruntime fuses each such group into a
DynamicQuantizeMatMul when it loads the model. That is `quantize_dynamic`'s default path, the one the
detector's student ships with and the seeds' DistilGPT-2 int8 most likely took. It runs on MLAS's
integer GEMM, not on MatMulNBits, so it is a different kernel as well as a coarser activation
grid than the builder's int8 (MatMulNBits rounds activations in blocks of 32).
"""
from __future__ import annotations

from pathlib import Path

DYNAMIC_CODE = 2  # bump when quantize_dynamic_int8 writes different weights (2: 7-bit, reduce_range)


def quantize_dynamic_int8(fp32_model: Path, out: Path) -> dict:
    """Write `out`/model.onnx and model.onnx.data from the fp32 `fp32_model` and return how many
    MatMuls became MatMulInteger and how many are left."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from edge.quantize import without_preprocessing_advice

    out = Path(out)
    with without_preprocessing_advice():
        quantize_dynamic(Path(fp32_model), out / "model.onnx", weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, op_types_to_quantize=["MatMul"], use_external_data_format=True,
                         extra_options={"MatMulConstBOnly": True})
    graph = onnx.load(str(out / "model.onnx"), load_external_data=False).graph
    return {"dynamic_matmuls": sum(n.op_type == "MatMulInteger" for n in graph.node),
            "matmuls_left": sum(n.op_type == "MatMul" for n in graph.node)}
