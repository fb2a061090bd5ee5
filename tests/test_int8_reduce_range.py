"""Every onnxruntime int8 quantization in the project keeps its weights to 7 bits (`reduce_range`).

x86 CPUs without VNNI multiply uint8 activations by int8 weights and add the products in pairs into
int16, which full 8-bit weights overflow: the causal LM's dynamic int8 read perplexity 7 million on
such a CPU before its weights were 7-bit (README, the compression study). Bundles are built on one
host and run on another, so every quantizer call must say `reduce_range`, and none may turn it off.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "competitions", "edge", "cli", "bench")
QUANTIZERS = ("quantize_dynamic", "quantize_static")


def _called(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def full_width_calls(source: str, name: str) -> list[str]:
    """'file:line' of each quantizer call without `reduce_range`, and of any call passing `reduce_range=False`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        value = next((k.value for k in node.keywords if k.arg == "reduce_range"), None)
        off = isinstance(value, ast.Constant) and value.value is not True
        if off or (_called(node) in QUANTIZERS and value is None):
            found.append(f"{name}:{node.lineno}")
    return found


def test_every_int8_quantizer_call_keeps_weights_to_7_bits():
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    calls = [p for p in files if any(q + "(" in p.read_text(encoding="utf-8") for q in QUANTIZERS)]
    assert len(calls) >= 3                    # the detector's, static int8's and the causal LM's quantizers
    problems = [hit for p in files for hit in full_width_calls(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not problems, "8-bit int8 weights saturate on x86 without VNNI: " + ", ".join(problems)


def test_the_check_sees_a_missing_or_disabled_reduce_range():
    source = ("quantize_dynamic(a, b, weight_type=w)\n"
              "onnxruntime.quantization.quantize_static(a, b, r, reduce_range=False)\n"
              "quantize_int8(a, b, reduce_range=False)\n"
              "quantize_dynamic(a, b, reduce_range=True)\n"
              "quantize_int8(a, b, reduce_range=reduce_range)\n")
    assert full_width_calls(source, "x.py") == ["x.py:1", "x.py:2", "x.py:3"]
