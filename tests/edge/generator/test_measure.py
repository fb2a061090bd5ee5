"""What the study measures on its machine (edge/generator/measure.py)."""
from __future__ import annotations

import pytest

from edge.generator.measure import (copy_bandwidth_gb_s, cpu_summary, median_spread, read_bandwidth_gb_s,
                                    weight_bytes_per_token)


def test_weight_bytes_count_int4_below_fp32(tiny_exports):
    fp32, int4 = (weight_bytes_per_token(tiny_exports[k]) for k in ("fp32", "int4"))
    assert 0 < int4 < 0.35 * fp32


def test_weight_bytes_skip_tables_read_a_row_at_a_time_even_through_a_transpose(tmp_path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    tables = {"alone": (10, 4), "transposed": (4, 10), "tied": (4, 10), "head": (4, 3)}
    inits = [numpy_helper.from_array(np.zeros(shape, np.float32), name) for name, shape in tables.items()]
    nodes = [helper.make_node("Gather", ["alone", "ids"], ["a"]),
             helper.make_node("Transpose", ["transposed"], ["t"]), helper.make_node("Gather", ["t", "ids"], ["b"]),
             helper.make_node("Transpose", ["tied"], ["u"]), helper.make_node("Gather", ["u", "ids"], ["c"]),
             helper.make_node("MatMul", ["x", "tied"], ["d"]), helper.make_node("MatMul", ["x", "head"], ["e"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1]),
                                           helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "abcde"], inits)
    onnx.save(helper.make_model(graph), str(tmp_path / "model.onnx"))
    assert weight_bytes_per_token(tmp_path) == (40 + 12) * 4          # the tied table and the head


def test_median_spread_is_median_min_max():
    assert median_spread([3.0, 1.0, 2.0, 10.0]) == (2.5, 1.0, 10.0)


def test_cpu_summary_names_the_cpu_and_the_kernels_flags(tmp_path):
    x86, pi = tmp_path / "x86", tmp_path / "pi"
    x86.write_text("model name\t: Test CPU\nflags\t\t: sse avx2 avx512f avx512_vnni\n")
    pi.write_text("processor\t: 0\nFeatures\t: fp asimd asimddp\n")
    assert cpu_summary(x86) == "Test CPU (avx2, avx512f, avx512_vnni)"
    assert cpu_summary(pi) == "CPU (asimddp)"
    assert cpu_summary(tmp_path / "missing") == "unknown CPU"


def test_read_bandwidth_is_a_positive_rate_at_any_thread_count_and_refuses_none():
    for threads in (1, 2, 3):
        rate = read_bandwidth_gb_s(threads, mb=8, repeats=2)
        assert 0.1 < rate < 10_000                           # GB/s: some memory system, not a unit slip
    assert 0.1 < copy_bandwidth_gb_s(mb=8, repeats=2) < 10_000
    with pytest.raises(ValueError, match="threads"):
        read_bandwidth_gb_s(0)
