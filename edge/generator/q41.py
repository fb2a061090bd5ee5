"""Recover GGUF Q4_1 weights exactly in onnxruntime's fast int4 kernel (host only).

    from edge.generator.q41 import regrid_q41
    regrid_q41(asym_int4_folder, fp32_folder, out_folder)   # both made by edge/generator/export.py

The model zoo's SmolLM2 weights are a dequantized GGUF Q4_1: in every block of 32 weights along the
input dimension, w = d*q + m with q in 0..15 (the block's minimum is m, its maximum m + 15d). So
d = (max - min) / 15 and q = (w - min) / d recover the 4-bit codes exactly. onnxruntime's
MatMulNBits computes w = scale * (q - z) with an integer zero point z (its fast, int8-activation
kernel needs it integer), and -m/d is rarely an integer: round-to-nearest asymmetric int4 moves
every block by up to d/2. Here z = round(-m/d) and the block's leftover offset r = m + d*z
(|r| <= d/2 when the block spans zero; the same for all 32 weights) is added back exactly by a side branch:
y += blocksum(x) @ R, where blocksum sums x over each block of 32 inputs (K/32 values) and R is the
(K/32, N) matrix of leftovers, in fp32: one extra bit per weight, a 1/32-size MatMul per layer.

MatMulNBits layouts (onnxruntime contrib op): B uint8 (N, K/32, 16), two codes per byte, the even
index in the low nibble; scales (N, K/32); zero points uint8 (N, ceil(K/32 / 2)), packed the same.
Blocks whose weights are not on a Q4_1 grid (none in SmolLM2's decoder; the tied embedding/LM head
is a different GGUF type) still come out exact: the codes are then RTN, the leftover corrects only
the offset, so such a matrix is left as the builder made it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BLOCK = 32


def q41_codes(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """(codes (N, K/32, 32) uint8, scales (N, K/32), zero points (N, K/32) uint8, leftovers (N, K/32),
    max distance of (w - min)/d from an integer) for a weight (N, K)."""
    n, k = weight.shape
    w = weight.astype(np.float64).reshape(n, k // BLOCK, BLOCK)           # (N, K/32, 32)
    low, high = w.min(-1), w.max(-1)
    d = (high - low) / 15
    d = np.where(d == 0, 1.0, d)
    exact = (w - low[..., None]) / d[..., None]
    codes = np.clip(np.round(exact), 0, 15)
    off_grid = float(np.abs(exact - codes).max())
    zero = np.clip(np.round(-low / d), 0, 15)
    leftover = low + d * zero                                              # w = d * (q - z) + leftover
    return codes.astype(np.uint8), d.astype(np.float32), zero.astype(np.uint8), leftover, off_grid


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """Pack uint8 values < 16 along the last axis, two per byte, the even index in the low nibble."""
    if values.shape[-1] % 2:
        values = np.concatenate([values, np.zeros(values.shape[:-1] + (1,), np.uint8)], axis=-1)
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


def regrid_q41(asym_folder: Path, fp32_folder: Path, out: Path, tolerance: float = 1e-3, log=print) -> dict:
    """Write `out`/model.onnx(.data): the asymmetric int4 model with every MatMulNBits whose fp32
    weight lies on a Q4_1 grid re-coded exactly, plus its leftover branch. Returns counts."""
    import onnx
    from onnx import helper, numpy_helper

    fp32 = onnx.load(str(Path(fp32_folder) / "model.onnx"))
    inits32 = {i.name: i for i in fp32.graph.initializer}
    weights = {n.name: n.input[1] for n in fp32.graph.node if n.op_type == "MatMul" and n.input[1] in inits32}
    model = onnx.load(str(Path(asym_folder) / "model.onnx"))
    inits = {i.name: i for i in model.graph.initializer}
    nodes, done, skipped = list(model.graph.node), 0, []
    new_nodes = []
    for node in nodes:
        new_nodes.append(node)
        source = weights.get(node.name.removesuffix("_Q4"))
        bits = next((a.i for a in node.attribute if a.name == "bits"), None)
        if node.op_type != "MatMulNBits" or source is None or bits != 4:
            continue
        w = numpy_helper.to_array(inits32[source]).T                       # (N, K)
        codes, scales, zero, leftover, off_grid = q41_codes(w)
        if off_grid > tolerance:
            skipped.append(node.name)
            continue
        n, blocks = scales.shape
        for name, value in ((node.input[1], pack_nibbles(codes).reshape(n, blocks, BLOCK // 2)),
                            (node.input[2], scales.reshape(numpy_helper.to_array(inits[node.input[2]]).shape)),
                            (node.input[3], pack_nibbles(zero))):
            inits[name].CopyFrom(numpy_helper.from_array(value, name))
        stem = node.name.removesuffix("_Q4")
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
        done += 1
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    out = Path(out)
    onnx.save(model, str(out / "model.onnx"), save_as_external_data=True, location="model.onnx.data",
              size_threshold=1024)
    log(f"q41: {done} MatMulNBits re-coded on their Q4_1 grid, {len(skipped)} left as built: {skipped}")
    return {"recoded": done, "skipped": skipped}
