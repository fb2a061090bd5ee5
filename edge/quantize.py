"""Quantize an exported ONNX model for CPU inference.

    from edge.quantize import quantize_int8, quantize_int4
    quantize_int8(Path("student.fp32.onnx"), Path("student.int8.onnx"))   # dynamic, QInt8 weights
    quantize_int4(Path("student.fp32.onnx"), Path("student.int4.onnx"))   # weight-only, optional
    quantize_weights_int8(Path("lm.fp32.onnx"), Path("lm.int8.onnx"))      # weight-only, block-wise
    quantize_q41(Path("lm.fp32.onnx"), Path("lm.int4-q41.onnx"))           # int4 on a GGUF Q4_1 grid

Dynamic int8: weights are stored as int8, activations are quantized on the fly per batch, so
no calibration data is needed. MatMul, Attention (-> QAttention), EmbedLayerNormalization and
Gather are quantized. reduce_range (7-bit weights) avoids the u8*s8 overflow of AVX2 kernels
without VNNI, as onnxruntime advises for x86, at a tiny precision cost.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from common.atomic import atomic_path
from common.errors import UserError


PER_BATCH_RANGE_OPS = {"DynamicQuantizeLinear"}   # what onnxruntime's quantize_dynamic puts before int8 products


def ranges_span_the_batch(model: Path) -> bool:
    """Whether `model` quantizes activations with one range over its whole input (dynamic int8):
    then an input's outputs move with the inputs batched beside it (and their padding), so it
    scores one input at a time to give each the same outputs in any file. Static int8 (fixed
    ranges) and MatMulNBits (a range per row block) do not."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    return any(node.op_type in PER_BATCH_RANGE_OPS for node in graph.node)


# Dynamic int8 rounds each input's activations to one range computed from float values that
# x86's and Arm's kernels sum in different orders, so now and then a value lands on the other
# side of a rounding step. Over 40 detect-ai-text sample essays under qemu (Cortex-A76) the
# detector's student moved by a median 1e-8 but up to 1.4e-3 in one essay's probability (2.2e-3
# pruned); a wrong model or tokenizer moves probabilities by tenths.
DYNAMIC_INT8_SMOKE_TOLERANCE = 1e-2


def bundle_smoke_tolerance(model: Path, tolerance: float) -> float:
    """The smoke test's largest |device - host| probability for `model`: `tolerance`, or
    DYNAMIC_INT8_SMOKE_TOLERANCE when the model's ranges span the batch and that is larger."""
    return max(tolerance, DYNAMIC_INT8_SMOKE_TOLERANCE) if ranges_span_the_batch(model) else tolerance


def bundle_batch_size(model: Path) -> int:
    """Inputs per session run a classifier bundle's runtime uses for `model` (its config.json's
    batch_size): 1 when its ranges span the batch, else the runtime's default."""
    from edge.runtime.classifier import DEFAULT_BATCH_SIZE

    return 1 if ranges_span_the_batch(model) else DEFAULT_BATCH_SIZE


@contextlib.contextmanager
def without_preprocessing_advice():
    """onnxruntime's quantizer logs "Please consider to run pre-processing before quantization" on
    the root logger for every call; the exports here are already in the form it wants."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def quantize_int8(src: Path, dst: Path, per_channel: bool = False, reduce_range: bool = True) -> Path:
    """QInt8 weights, dynamic activations; written atomically."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if not Path(src).is_file():
        raise UserError(f"missing ONNX model: {src}")
    with atomic_path(Path(dst), suffix=".onnx") as tmp, without_preprocessing_advice():
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=per_channel,
                         reduce_range=reduce_range,
                         # fused graphs hold contrib ops whose outputs shape inference cannot type
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return Path(dst)


def quantize_int4(src: Path, dst: Path, block_size: int = 32) -> Path:
    """Weight-only int4 (MatMulNBits, blocks of `block_size`). Needs onnxruntime's
    matmul_nbits_quantizer, which imports the `onnx_ir` package (not in requirements.txt);
    UserError naming the missing module when it is absent."""
    import onnx

    if not Path(src).is_file():
        raise UserError(f"missing ONNX model: {src}")
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    except ImportError as exc:
        raise UserError(f"int4 weight-only quantization is unavailable here: {exc} "
                        f"(pip install {exc.name or 'onnx-ir'})") from None
    quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), block_size=block_size, is_symmetric=True)
    quantizer.process()
    with atomic_path(Path(dst), suffix=".onnx") as tmp:
        quantizer.model.save_model_to_file(str(tmp), use_external_data_format=False)
    return Path(dst)


def quantize_weights_int8(src: Path, dst: Path, block_size: int = 32, accuracy_level: int = 1) -> Path:
    """Weight-only int8 (MatMulNBits, 8 bits, symmetric blocks of `block_size`), activations kept
    in float (accuracy_level 1). For a causal LM: dynamic int8's per-tensor activation scales
    cannot hold an LLM's activation outliers (on SmolLM2's token statistics the mean |error| of
    the log-probabilities was 5.2 nats with dynamic per-channel int8, 0.06 with this)."""
    import onnx

    if not Path(src).is_file():
        raise UserError(f"missing ONNX model: {src}")
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)  # a line a node
    config = DefaultWeightOnlyQuantConfig(block_size=block_size, is_symmetric=True, bits=8,
                                          accuracy_level=accuracy_level)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(src)), algo_config=config)
    quantizer.process()
    with atomic_path(Path(dst), suffix=".onnx") as tmp:
        quantizer.model.save_model_to_file(str(tmp), use_external_data_format=False)
    return Path(dst)


def quantize_q41(src: Path, dst: Path, accuracy_level: int = 1, keep_fp32: tuple[str, ...] = ("lm_head",)) -> Path:
    """Int4 for a causal LM whose weights are a dequantized GGUF Q4_1 (the model zoo's SmolLM2):
    asymmetric block-32 int4, then every MatMul re-coded on its own Q4_1 grid with its exact block
    offsets (edge/generator/q41.py), so the int4 weights equal the fp32 ones. MatMuls whose name
    holds one of `keep_fp32` stay fp32 (the LM head is not on a Q4_1 grid). Weights that are on no
    such grid come out as plain asymmetric int4: the pipeline's retention gate judges them."""
    import shutil
    import tempfile

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    from edge.generator.q41 import regrid_q41

    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise UserError(f"missing ONNX model: {src}")
    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix=".q41-", dir=dst.parent))
    try:
        for name in ("fp32", "asym", "q41"):
            (work / name).mkdir()
        (work / "fp32" / "model.onnx").symlink_to(src.resolve())
        graph = onnx.load(str(src))
        keep = [n.name for n in graph.graph.node if n.op_type == "MatMul" and any(k in n.name for k in keep_fp32)]
        config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=False, bits=4, accuracy_level=accuracy_level)
        quantizer = MatMulNBitsQuantizer(graph, algo_config=config, nodes_to_exclude=keep)
        quantizer.process()
        quantizer.model.save_model_to_file(str(work / "asym" / "model.onnx"), use_external_data_format=False)
        del graph, quantizer
        regrid_q41(work / "asym", work / "fp32", work / "q41", log=lambda *_: None)
        model = onnx.load(str(work / "q41" / "model.onnx"))   # one file, as a bundle ships it
        with atomic_path(dst, suffix=".onnx") as tmp:
            onnx.save(model, str(tmp))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dst
