"""Recover GGUF Q4_1 (and Q8_0) weights exactly in onnxruntime's fast MatMulNBits kernels (host only).

    from edge.generator.q41 import regrid_q41
    regrid_q41(asym_int4_folder, fp32_folder, out_folder)   # both made by edge/generator/export.py

The model zoo's SmolLM2 weights are a dequantized GGUF Q4_1: in every block of 32 weights along the
input dimension, w = d*q + m with q in 0..15 (the block's minimum is m, its maximum m + 15d). So
d = (max - min) / 15 and q = (w - min) / d recover the 4-bit codes exactly. onnxruntime's
MatMulNBits computes w = scale * (q - z) with an integer zero point z (its fast, int8-activation
kernel needs it integer), and -m/d is rarely an integer: round-to-nearest asymmetric int4 moves
every block by up to d/2. Here z = round(-m/d) and the block's leftover offset r = m + d*z
(|r| <= d/2 when the block spans zero; the same for all 32 weights) is added back, as
y += blocksum(x) @ R, where blocksum sums x over each block of 32 inputs (K/32 values) and R is the
(K/32, N) matrix of leftovers. Two ways (`fold`):
- "branch": a side branch in fp32 (Reshape, ReduceSum, MatMul, Add per MatMul): exact, but four
  more kernels per MatMul;
- "inputs": inside the same MatMulNBits. Its input becomes [x, S, S, ...] with S = x @ Bsum the
  block sums (one small fp32 MatMul, zero-padded to whole blocks; shared by the MatMuls that read
  the same x) and its weight gains as many blocks per column holding R in `digits` int4 digits
  (each symmetric int4 of what the previous ones left): 2 kernels per input instead of 4 per
  MatMul, for K/32 more inputs per digit (padded: 1/18 more int4 work at K = 576); each digit
  leaves at most 1/14 of the error before it (half a step of a 7-step grid over the largest
  leftover);
- "none": dropped, for int8 exports: at 8 bits the same grid is written as codes 17q with a 17x
  finer scale, so the leftover is at most 1/34 of d.
An 8-bit MatMul whose weight is on a GGUF Q8_0 grid instead (w = d*q, d = the block's largest |w|
/ 127: the zoo's tied embedding/LM head) gets its own codes q + 128 and scales d: the builder's
int8 maps the largest |w| to 128 steps and re-rounds every weight.

MatMulNBits layouts (onnxruntime contrib op): B uint8 (N, K/32, 16), two codes per byte, the even
index in the low nibble; scales (N, K/32); zero points uint8 (N, ceil(K/32 / 2)), packed the same.
8-bit B is one code per byte (N, K/32, 32), zero points (N, K/32). A matrix on neither grid (none
in SmolLM2) is left as the builder made it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK = 32


def q41_codes(weight: np.ndarray, bits: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(codes (N, K/32, 32) uint8, scales (N, K/32), zero points (N, K/32) uint8, leftovers (N, K/32),
    max distance of (w - min)/d from an integer) for a weight (N, K). At 8 bits the same grid is
    written with a 17 times finer scale (codes 17 * q, 0..255), so the zero point rounds 17 times
    closer and the leftover is at most d/34."""
    n, k = weight.shape
    w = weight.astype(np.float64).reshape(n, k // BLOCK, BLOCK)           # (N, K/32, 32)
    low, high = w.min(-1), w.max(-1)
    d = (high - low) / 15
    d = np.where(d == 0, 1.0, d)
    exact = (w - low[..., None]) / d[..., None]
    codes = np.clip(np.round(exact), 0, 15)
    off_grid = float(np.abs(exact - codes).max())
    step = (2 ** bits - 1) // 15
    scale = d / step
    zero = np.clip(np.round(-low / scale), 0, 2 ** bits - 1)
    leftover = low + scale * zero                                         # w = scale * (q - z) + leftover
    return (codes * step).astype(np.uint8), scale.astype(np.float32), zero.astype(np.uint8), leftover, off_grid


def q80_codes(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(codes (N, K/32, 32) uint8 = q + 128, scales (N, K/32), max distance of w/d from an integer)
    for a weight on a GGUF Q8_0 grid (w = d * q, d = the block's largest |w| / 127): the zoo's
    tied embedding / LM head. The builder's int8 maps the largest |w| to 128 steps instead, so
    it re-rounds every weight (by up to a step); these codes keep them exactly."""
    n, k = weight.shape
    w = weight.astype(np.float64).reshape(n, k // BLOCK, BLOCK)
    d = np.abs(w).max(-1) / 127
    d = np.where(d == 0, 1.0, d)
    exact = w / d[..., None]
    q = np.round(exact)
    return (q + 128).astype(np.uint8), d.astype(np.float32), float(np.abs(exact - q).max())


def pack_codes(values: np.ndarray, bits: int) -> np.ndarray:
    """MatMulNBits' packing of codes along the last axis: 8 bits one per byte, 4 bits two."""
    return values.astype(np.uint8) if bits == 8 else pack_nibbles(values)


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """Pack uint8 values < 16 along the last axis, two per byte, the even index in the low nibble."""
    if values.shape[-1] % 2:
        values = np.concatenate([values, np.zeros(values.shape[:-1] + (1,), np.uint8)], axis=-1)
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


def leftover_digits(leftover: np.ndarray, digits: int, bits: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(codes (N, P, 32) uint8 stored + 2**(bits-1), scales (N, P) float32) of `leftover` (N, B)
    zero-padded to whole blocks and written as `digits` symmetric blocks each: digit i holds what
    digits before it left, so the sum of scale * (code - 2**(bits-1)) approximates the leftover."""
    n, blocks = leftover.shape
    padded = np.zeros((n, -(-blocks // BLOCK) * BLOCK))
    padded[:, :blocks] = leftover
    rest = padded.reshape(n, -1, BLOCK)
    codes, scales, half = [], [], 2 ** (bits - 1)
    for _ in range(digits):
        peak = np.abs(rest).max(-1, keepdims=True)
        scale = np.where(peak == 0, 1.0, peak / (half - 1)).astype(np.float32).astype(np.float64)
        q = np.clip(np.round(rest / scale), -half, half - 1)
        rest = rest - q * scale
        codes.append((q + half).astype(np.uint8))
        scales.append(scale[..., 0].astype(np.float32))
    return np.concatenate(codes, axis=1), np.concatenate(scales, axis=1)


def regrid_q41(asym_folder: Path, fp32_folder: Path, out: Path, tolerance: float = 1e-3, log=print,
               fold: str = "branch", digits: int = 2) -> dict:
    """Write `out`/model.onnx(.data): the int4 (asymmetric) or int8 model with every MatMulNBits
    whose fp32 weight lies on a Q4_1 grid re-coded exactly, its leftovers added back as `fold` says
    ("branch", "inputs": module docstring; "none" drops them). Returns counts."""
    import onnx
    from onnx import helper, numpy_helper

    fp32 = onnx.load(str(Path(fp32_folder) / "model.onnx"))
    inits32 = {i.name: i for i in fp32.graph.initializer}
    weights = {n.name: n.input[1] for n in fp32.graph.node if n.op_type == "MatMul" and n.input[1] in inits32}
    model = onnx.load(str(Path(asym_folder) / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    nodes, done, skipped, folded, exact8 = list(model.graph.node), 0, [], {}, []
    new_nodes = []
    for node in nodes:
        new_nodes.append(node)
        stem = node.name.rsplit("_Q", 1)[0]
        source = weights.get(stem)
        bits = next((a.i for a in node.attribute if a.name == "bits"), None)
        if node.op_type != "MatMulNBits" or source is None or bits not in (4, 8):
            continue
        w = numpy_helper.to_array(inits32[source]).T                       # (N, K)
        codes, scales, zero, leftover, off_grid = q41_codes(w, bits)
        if off_grid > tolerance:
            q8 = q80_codes(w) if bits == 8 else None
            if q8 is None or q8[2] > tolerance:
                skipped.append(node.name)
                continue
            _set_weights(model, node, inits, q8[0], q8[1], None, bits)  # symmetric: the zero point is 128
            exact8.append(node.name)
            continue
        done += 1
        if fold == "inputs":
            new_nodes[-1:] = _fold_into_inputs(model, node, inits, codes, scales, zero, leftover, digits, bits,
                                               folded) + [node]
            continue
        _set_weights(model, node, inits, codes, scales, zero, bits)
        if fold == "none":
            continue
        n, blocks = scales.shape
        raw = f"{stem}/q41_raw"
        out_name, node.output[0] = node.output[0], raw
        r_name = f"{stem}.q41_leftover"
        model.graph.initializer.append(numpy_helper.from_array(leftover.T.astype(np.float32), r_name))  # (K/32, N)
        shape_name = f"{stem}.q41_shape"
        model.graph.initializer.append(numpy_helper.from_array(np.array([0, 0, blocks, BLOCK], np.int64), shape_name))
        new_nodes += [
            helper.make_node("Reshape", [node.input[0], shape_name], [f"{stem}/q41_blocks"], name=f"{stem}/q41_Reshape"),
            helper.make_node("ReduceSum", [f"{stem}/q41_blocks", f"{stem}.q41_axes"], [f"{stem}/q41_sums"],
                             name=f"{stem}/q41_ReduceSum", keepdims=0),
            helper.make_node("MatMul", [f"{stem}/q41_sums", r_name], [f"{stem}/q41_fix"], name=f"{stem}/q41_MatMul"),
            helper.make_node("Add", [raw, f"{stem}/q41_fix"], [out_name], name=f"{stem}/q41_Add"),
        ]
        model.graph.initializer.append(numpy_helper.from_array(np.array([-1], np.int64), f"{stem}.q41_axes"))
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    out = Path(out)
    onnx.save(model, str(out / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
              size_threshold=1024)
    log(f"q41: {done} MatMulNBits re-coded on their Q4_1 grid, {len(exact8)} on their Q8_0 grid {exact8}, "
        f"{len(skipped)} left as built: {skipped}")
    return {"recoded": done, "skipped": skipped} | ({"q8_0": exact8} if exact8 else {})


def _set_weights(model, node, inits, codes, scales, zero, bits: int) -> None:
    """Write codes (N, blocks, 32), scales and zero points (N, blocks; None: symmetric) into `node`'s
    initializers, in the layouts and ranks the export used (adding a zero-point input to a
    symmetric export's node when there are zero points), and set its K."""
    from onnx import numpy_helper

    n, blocks = scales.shape
    flat = numpy_helper.to_array(inits[node.input[2]]).ndim == 1
    if zero is not None and len(node.input) < 4:
        node.input.append(f"{node.name.rsplit('_Q', 1)[0]}.weight_zero_points")
        model.graph.initializer.append(numpy_helper.from_array(np.zeros(1, np.uint8), node.input[3]))
        inits[node.input[3]] = model.graph.initializer[-1]
    zero_name = node.input[3] if len(node.input) > 3 else ""
    if zero is None and zero_name:                                         # symmetric codes in an asymmetric node
        zero = np.full(scales.shape, 2 ** (bits - 1), np.uint8)
    for name, value in ((node.input[1], pack_codes(codes, bits).reshape(n, blocks, -1)),
                        (node.input[2], scales), (zero_name, None if zero is None else pack_codes(zero, bits))):
        if value is None:
            continue
        value = value.reshape(-1) if flat and name != node.input[1] else value
        inits[name].CopyFrom(numpy_helper.from_array(value, name))
    for attr in node.attribute:
        if attr.name == "K":
            attr.i = blocks * BLOCK


def _fold_into_inputs(model, node, inits, codes, scales, zero, leftover, digits: int, bits: int, folded: dict) -> list:
    """Re-code `node` in place with its leftovers as extra weight blocks, reading [x, S * digits];
    returns the nodes that make that input (none when another MatMul on the same x made them)."""
    from onnx import helper, numpy_helper

    k = scales.shape[1] * BLOCK
    r_codes, r_scales = leftover_digits(leftover, digits, bits)
    padded = r_codes.shape[1] // digits * BLOCK                     # S's length: K/32 rounded up to whole blocks
    _set_weights(model, node, inits, np.concatenate([codes, r_codes], axis=1), np.concatenate([scales, r_scales], axis=1),
                 np.concatenate([zero, np.full(r_scales.shape, 2 ** (bits - 1), np.uint8)], axis=1), bits)
    x = node.input[0]
    made = []
    if x not in folded:
        stem = f"{x.rsplit('/', 1)[0]}/q41_fold"
        sums = np.zeros((k, padded), np.float32)
        sums[np.arange(k), np.arange(k) // BLOCK] = 1.0
        model.graph.initializer.append(numpy_helper.from_array(sums, f"{stem}.block_sums"))
        made = [helper.make_node("MatMul", [x, f"{stem}.block_sums"], [f"{stem}/sums"], name=f"{stem}/MatMul"),
                helper.make_node("Concat", [x] + [f"{stem}/sums"] * digits, [f"{stem}/input"],
                                 name=f"{stem}/Concat", axis=-1)]
        folded[x] = f"{stem}/input"
    node.input[0] = folded[x]
    return made
