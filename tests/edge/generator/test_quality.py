"""Quality measurements: perplexity and agreement arithmetic, the cache, parity with PyTorch."""
from __future__ import annotations

import math

import numpy as np

from edge.generator.quality import compare, pytorch_parity, teacher_forced
from edge.generator.study_table import format_table, pareto


def test_compare_is_exp_mean_nll_and_the_share_of_equal_argmax():
    ref = {"nll": np.array([1.0, 2.0]), "argmax": np.array([3, 4])}
    got = {"nll": np.array([2.0, 2.0]), "argmax": np.array([3, 5])}
    assert compare(got, ref) == {"perplexity": math.exp(2.0), "agreement": 0.5, "tokens": 2}


def _no_session(*args, **kwargs):
    raise AssertionError("the cache was missed: a session was opened")


def test_teacher_forced_is_cached_and_fp32_agrees_with_itself(tiny_exports, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    windows = [list(range(100, 140)), list(range(2000, 2030))]
    ref = teacher_forced(tiny_exports["fp32"], windows)
    assert ref["nll"].shape == (39 + 29,) and list((tmp_path / "generator" / "quality").glob("*.npz"))
    with monkeypatch.context() as patched:                          # read back from the cache, no session
        patched.setattr("edge.runtime.causal_lm.CausalLM", _no_session)
        again = teacher_forced(tiny_exports["fp32"], windows)
    assert compare(again, ref)["agreement"] == 1.0
    np.testing.assert_array_equal(again["nll"], ref["nll"])
    q = compare(teacher_forced(tiny_exports["int4"], windows), ref)
    assert 0 <= q["agreement"] <= 1 and q["perplexity"] > 1


def test_one_token_a_step_is_cached_apart_and_fp32_gives_the_same_numbers(tiny_exports, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    windows = [list(range(100, 140)), list(range(2000, 2030))]
    one_pass = teacher_forced(tiny_exports["fp32"], windows)
    steps = teacher_forced(tiny_exports["fp32"], windows, steps=True)
    assert len(list((tmp_path / "generator" / "quality").glob("*-steps.npz"))) == 1
    np.testing.assert_allclose(steps["nll"], one_pass["nll"], atol=1e-4)     # fp32: one row or many, the same sums
    assert (steps["argmax"] == one_pass["argmax"]).all()


def test_onnx_fp32_matches_pytorch(tiny_exports, tiny_llm):
    parity = pytorch_parity(tiny_llm, tiny_exports["fp32"], ["The history of Rome", "def f(x):"], new_tokens=8)
    assert parity["max_abs_logprob_diff"] < 1e-3 and parity["greedy_same"]


def test_pareto_keeps_only_unbeaten_points():
    points = [(10, 40.0), (20, 45.0), (15, 50.0), (30, 60.0), (5, 41.0)]
    assert pareto(points) == [0, 1, 3]


def test_the_table_has_one_line_per_row():
    from edge.generator.study import StudyConfig

    row = {"variant": "int4", "size_mb": 86.5, "prefill_tok_s": 500.0, "decode_tok_s_1t": (60.0, 55.0, 62.0),
           "decode_tok_s_2t": (90.0, 80.0, 95.0), "decode_ratio": (3.1, 2.9, 3.3), "wall_64_s": 0.8,
           "peak_rss_mb": 300.0, "perplexity": 50.0, "perplexity_delta": 0.2, "agreement": 0.6, "roofline": 0.4}
    table = format_table([row, {**row, "variant": "pytorch fp32", "size_mb": None}], StudyConfig())
    lines = table.splitlines()
    assert len(lines) == 4 and "3.10x (2.90-3.30)" in lines[2] and lines[3].startswith("| pytorch fp32 | - |")
