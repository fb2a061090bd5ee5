"""What the study measures on its machine (edge/generator/measure.py)."""
from __future__ import annotations

import pytest

from edge.generator.measure import (copy_bandwidth_gb_s, cpu_summary, median_spread, read_bandwidth_gb_s,
                                    weight_bytes_per_token)


def test_weight_bytes_count_int4_below_fp32(tiny_exports):
    fp32, int4 = (weight_bytes_per_token(tiny_exports[k]) for k in ("fp32", "int4"))
    assert 0 < int4 < 0.35 * fp32


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
