"""Q4_1 re-coding: exact codes, the packing layout, and a MatMulNBits graph that reproduces fp32."""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.generator.q41 import leftover_digits, pack_nibbles, q41_codes, regrid_q41


def q41_weight(n: int, k: int, seed: int = 0, spans_zero: bool = False) -> np.ndarray:
    """A (N, K) weight on a GGUF Q4_1 grid: per block of 32, d * q + m with q in 0..15 using 0 and 15
    (spans_zero: every block's range holds 0, as in trained weights)."""
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 16, (n, k // 32, 32))
    q[..., 0], q[..., 1] = 0, 15
    d = rng.uniform(0.01, 0.05, (n, k // 32, 1)).astype(np.float16).astype(np.float32)
    m = (-rng.uniform(0, 15, d.shape) * d if spans_zero else rng.uniform(-0.3, 0.1, d.shape)).astype(np.float16)
    m = m.astype(np.float32)
    return (d * q + m).reshape(n, k).astype(np.float32)


def test_codes_scales_zero_points_and_leftovers_rebuild_the_weight_exactly():
    w = q41_weight(6, 64)
    codes, scales, zero, leftover, off_grid = q41_codes(w)
    assert off_grid < 1e-4 and codes.max() == 15 and codes.min() == 0
    rebuilt = scales[..., None] * (codes.astype(np.float64) - zero[..., None]) + leftover[..., None]
    np.testing.assert_allclose(rebuilt.reshape(w.shape), w, atol=1e-6)
    spans_zero = (w.reshape(6, 2, 32).min(-1) <= 0) & (w.reshape(6, 2, 32).max(-1) >= 0)
    assert (np.abs(leftover) <= scales / 2 + 1e-7)[spans_zero].all()   # else z clips to 0 or 15


def test_pack_nibbles_puts_the_even_index_in_the_low_nibble():
    assert pack_nibbles(np.array([[1, 2, 3, 4, 5]], np.uint8)).tolist() == [[0x21, 0x43, 0x05]]


def _matmul_model(path, w: np.ndarray) -> None:
    k, n = w.shape[1], w.shape[0]
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="/proj/MatMul")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", n])],
                              [numpy_helper.from_array(w.T.copy(), "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]),
              str(path / "model.onnx"))


@pytest.mark.parametrize("bits, symmetric, fold, ops", [
    (4, False, "branch", ["MatMulNBits", "Reshape", "ReduceSum", "MatMul", "Add"]),
    (4, False, "inputs", ["MatMul", "Concat", "MatMulNBits"]),
    (8, True, "inputs", ["MatMul", "Concat", "MatMulNBits"]),      # the builder's int8 has no zero points
    (8, True, "none", ["MatMulNBits"]),
])
@pytest.mark.parametrize("accuracy_level", [1, 4])
def test_the_regridded_graph_reproduces_the_fp32_matmul(tmp_path, accuracy_level, bits, symmetric, fold, ops):
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    w = q41_weight(48, 64, seed=1, spans_zero=fold == "none")
    for name in ("fp32", "asym", "q41"):
        (tmp_path / name).mkdir()
    _matmul_model(tmp_path / "fp32", w)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=symmetric, accuracy_level=accuracy_level, bits=bits)
    quant = MatMulNBitsQuantizer(onnx.load(str(tmp_path / "fp32" / "model.onnx")), algo_config=config)
    quant.process()
    quant.model.save_model_to_file(str(tmp_path / "asym" / "model.onnx"))
    counts = regrid_q41(tmp_path / "asym", tmp_path / "fp32", tmp_path / "q41", log=lambda *_: None, fold=fold)
    assert counts == {"recoded": 1, "skipped": []}
    assert [n.op_type for n in onnx.load(str(tmp_path / "q41" / "model.onnx")).graph.node] == ops
    x = np.random.default_rng(2).normal(size=(2, 3, 64)).astype(np.float32)
    run = {n: ort.InferenceSession(str(tmp_path / n / "model.onnx")).run(None, {"x": x})[0] for n in ("asym", "q41")}
    exact = x @ w.T
    error = np.abs(run["q41"] - exact).max()
    rtn = np.abs(run["asym"] - exact).max()
    if fold == "none" and accuracy_level == 1:  # codes 17q: offsets off by up to 1/34 of a Q4_1 step
        bound = np.abs(x).reshape(2, 3, 2, 32).sum(-1).max() * 0.05 / 34
        assert error < bound and error < rtn
    elif accuracy_level == 1:
        assert error < 1e-4
    else:                                       # int8 activations; at 4 bits RTN's weights err more
        assert error < 0.05 and (bits == 8 or error < 0.5 * rtn)


def test_leftover_digits_shrink_the_error_fourteenfold_per_digit():
    leftover = np.random.default_rng(5).uniform(-0.02, 0.02, (4, 18))
    for digits in (1, 2, 3):
        codes, scales = leftover_digits(leftover, digits)
        assert codes.shape == (4, digits, 32) and codes.max() <= 15 and scales.shape == (4, digits)
        value = sum(scales[:, i, None] * (codes[:, i].astype(np.float64) - 8) for i in range(digits))
        assert np.abs(value[:, 18:]).max() == 0                                          # the padding stays zero
        assert np.abs(value[:, :18] - leftover).max() <= 0.02 / 14 ** digits * 1.01             # half a step per digit


def test_quantize_q41_writes_one_file_equal_to_fp32_with_the_head_left_fp32(tmp_path):
    from edge.quantize import quantize_q41

    body, head = q41_weight(64, 64, seed=3), np.random.default_rng(4).normal(size=(40, 64)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w_body"], ["h"], name="/layers.0/mlp/MatMul"),
             helper.make_node("MatMul", ["h", "w_head"], ["y"], name="/lm_head/MatMul")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", 40])],
                              [numpy_helper.from_array(body.T.copy(), "w_body"),
                               numpy_helper.from_array(head.T.copy(), "w_head")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "fp32.onnx"))
    out = quantize_q41(tmp_path / "fp32.onnx", tmp_path / "student.int4-q41.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp32.onnx", "student.int4-q41.onnx"]  # one file, no temp left
    ops = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert ops.count("MatMulNBits") == 1 and "MatMul" in ops   # the head stays a float MatMul
    x = np.random.default_rng(5).normal(size=(1, 3, 64)).astype(np.float32)
    y = ort.InferenceSession(str(out)).run(None, {"x": x})[0]
    np.testing.assert_allclose(y, (x @ body.T) @ head.T, atol=2e-3)


def test_an_int8_matmul_on_a_q8_0_grid_is_recoded_exactly(tmp_path):
    """The tied head is GGUF Q8_0: the builder's int8 (largest |w| -> 128 steps) re-rounds it."""
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    rng = np.random.default_rng(7)
    d = rng.uniform(0.001, 0.01, (40, 2, 1)).astype(np.float16).astype(np.float32)
    q = rng.integers(-127, 128, (40, 2, 32))
    q[..., 0] = 127
    w = (d * q).reshape(40, 64).astype(np.float32)
    for name in ("fp32", "int8", "q80"):
        (tmp_path / name).mkdir()
    _matmul_model(tmp_path / "fp32", w)
    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=1, bits=8)
    quant = MatMulNBitsQuantizer(onnx.load(str(tmp_path / "fp32" / "model.onnx")), algo_config=config)
    quant.process()
    quant.model.save_model_to_file(str(tmp_path / "int8" / "model.onnx"))
    counts = regrid_q41(tmp_path / "int8", tmp_path / "fp32", tmp_path / "q80", log=lambda *_: None)
    assert counts == {"recoded": 0, "skipped": [], "q8_0": ["/proj/MatMul_Q8"]}
    x = np.random.default_rng(2).normal(size=(2, 3, 64)).astype(np.float32)
    run = {n: ort.InferenceSession(str(tmp_path / n / "model.onnx")).run(None, {"x": x})[0] for n in ("int8", "q80")}
    assert np.abs(run["q80"] - x @ w.T).max() < 1e-4 < np.abs(run["int8"] - x @ w.T).max()
