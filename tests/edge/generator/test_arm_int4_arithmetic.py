"""Which arithmetic onnxruntime's MatMulNBits runs on the emulated Pi (qemu, Cortex-A76) and on
x86, traced from one node's outputs against numpy models of each rounding. It is why the study's
int4 for the Pi keeps zero points (int4-q41, int4-q41-fold: edge/generator/q41.py):

- x86 (MLAS), every form: activations rounded to int8 per block of 32, fp32 weight scales.
- aarch64, 4 bits with zero points: the same per-block arithmetic as x86.
- aarch64, 4 bits without zero points (the builder's symmetric int4): KleidiAI's qai8dxp x
  qsi4c32p kernel. One asymmetric int8 range per row of activations, so an outlier coarsens the
  whole row, and weight scales cut to bfloat16 (the low 16 bits dropped).
- aarch64, 8 bits: per block, as on x86.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

K, N, BLOCK = 576, 64, 32            # SmolLM2's hidden size
RUNNER = """
import json, platform, sys
import numpy as np, onnxruntime as ort
x = np.load("x.npy")
out = {name: ort.InferenceSession(name + ".onnx", providers=["CPUExecutionProvider"]).run(None, {"X": x})[0][0].tolist()
       for name in sys.argv[1:]}
print(json.dumps({"machine": platform.machine(), "y": out}))
"""
FORMS = {"int4-sym": (4, False), "int4-asym": (4, True), "int8-sym": (8, False)}


def _weights(bits: int, zero_points: bool, rng) -> dict:
    top = 2 ** bits
    codes = rng.integers(0, top, (N, K // BLOCK, BLOCK)).astype(np.uint8)
    scales = (rng.random((N, K // BLOCK)) * 0.02 / (top // 16) + 0.001).astype(np.float32)
    zero = (rng.integers(0, top, (N, K // BLOCK)) if zero_points else np.full((N, K // BLOCK), top // 2)).astype(np.uint8)
    return {"codes": codes, "scales": scales, "zero": zero}


def _model(path: Path, bits: int, w: dict, zero_points: bool) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from edge.generator.q41 import pack_codes

    inits = [numpy_helper.from_array(pack_codes(w["codes"], bits), "B"),
             numpy_helper.from_array(w["scales"].reshape(-1), "S")]
    if zero_points:
        inits.append(numpy_helper.from_array(pack_codes(w["zero"], bits).reshape(-1), "Z"))
    node = helper.make_node("MatMulNBits", ["X", "B", "S"] + (["Z"] if zero_points else []), ["Y"],
                            domain="com.microsoft", K=K, N=N, bits=bits, block_size=BLOCK, accuracy_level=4)
    graph = helper.make_graph([node], "one_matmul", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, K])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, N])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    onnx.save(model, str(path))


def _dequantized(w: dict, scales: np.ndarray | None = None) -> np.ndarray:
    scales = w["scales"] if scales is None else scales
    return ((w["codes"].astype(np.float64) - w["zero"][..., None]) * scales[..., None]).reshape(N, K)


def per_block_int8(x: np.ndarray) -> np.ndarray:
    """Symmetric int8 per block of 32 inputs (MLAS's CompInt8, x86 and Arm)."""
    blocks = x.reshape(-1, BLOCK)
    step = np.abs(blocks).max(1, keepdims=True) / 127
    return (np.round(blocks / step) * step).reshape(-1)


def per_row_int8(x: np.ndarray) -> np.ndarray:
    """KleidiAI's qai8dxp: one asymmetric int8 range over the row, zero point nudged to an integer."""
    x = x.astype(np.float32)
    low, high = np.float32(min(0.0, x.min())), np.float32(max(0.0, x.max()))
    scale = np.float32(255.0) / (high - low)
    zero = (-128 - low * scale) if (-128 + low * scale) + (127 + high * scale) > 0 else (127 - high * scale)
    zero = np.rint(np.clip(zero, -128, 127))
    q = np.clip(np.rint(x * scale) + zero, -128, 127)
    return ((q - zero) * (np.float32(1.0) / scale)).astype(np.float64)


def bfloat16_cut(values: np.ndarray) -> np.ndarray:
    return (values.astype(np.float32).view(np.uint32) & 0xFFFF0000).view(np.float32)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("arm_int4")
    weights = {}
    for name, (bits, zero_points) in FORMS.items():
        weights[name] = _weights(bits, zero_points, rng)
        _model(folder / f"{name}.onnx", bits, weights[name], zero_points)
    x = rng.normal(size=(1, K)).astype(np.float32)
    x[0, 5] = 40.0                   # one outlier channel: a per-row range is 16x coarser than a block's
    np.save(folder / "x.npy", x)
    (folder / "run.py").write_text(RUNNER)
    return folder, weights, x[0].astype(np.float64)


def _outputs(argv: list[str], folder: Path, run) -> dict:
    code, out, err = run(argv + ["run.py", *FORMS], cwd=str(folder), timeout=300)
    assert code == 0, err
    return json.loads(out)


def _distances(y: dict, weights: dict, x: np.ndarray) -> dict:
    """Per form: max |output - model| for each rounding model, relative to the output's largest |y|."""
    found = {}
    for name, w in weights.items():
        got = np.array(y[name])
        models = {"per block": _dequantized(w) @ per_block_int8(x),
                  "per row, bf16 scales": _dequantized(w, bfloat16_cut(w["scales"])) @ per_row_int8(x)}
        found[name] = {kind: float(np.abs(got - ref).max() / np.abs(got).max()) for kind, ref in models.items()}
    return found


def test_x86_rounds_activations_per_block_in_every_form(probe):
    import subprocess
    import sys

    folder, weights, x = probe

    def run(argv, cwd, timeout):
        done = subprocess.run(argv, cwd=cwd, timeout=timeout, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    found = _distances(_outputs([sys.executable], folder, run)["y"], weights, x)
    print(f"\nmax |y - model| / max |y| on x86: {found}")
    for name, distance in found.items():
        assert distance["per block"] < 1e-5, (name, found)
        assert distance["per row, bf16 scales"] > 1e-2, (name, found)


def test_the_emulated_pi_runs_symmetric_int4_per_row_and_the_rest_per_block(probe, pi_root):
    from edge.deploy.emulated import EmulatedPi

    folder, weights, x = probe
    result = _outputs(pi_root.python_argv(), folder, EmulatedPi(pi_root).run)
    assert result["machine"] == "aarch64"
    found = _distances(result["y"], weights, x)
    print(f"\nmax |y - model| / max |y| on the emulated Pi: {found}")
    assert found["int4-sym"]["per row, bf16 scales"] < 1e-5, found     # KleidiAI qai8dxp x qsi4c32p
    assert found["int4-sym"]["per block"] > 1e-2, found
    assert found["int4-asym"]["per block"] < 1e-5, found                # what x86 computes
    assert found["int8-sym"]["per block"] < 1e-4, found                 # per block, float order aside
    assert found["int8-sym"]["per row, bf16 scales"] > 1e-2, found
