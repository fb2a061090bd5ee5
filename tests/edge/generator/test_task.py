"""The study's task column: option scores on the device runtime and in PyTorch, MAP@3, the table."""
from __future__ import annotations

import numpy as np
import pytest

from edge.generator.study import StudyConfig
from edge.generator.study_table import format_table
from edge.generator.task import OptionTask, onnx_option_scores, rankings, task_row, torch_option_scores

TASK = OptionTask("tiny", ["Question: Which gas do plants take in?\nAnswer:", "Question: 2 + 2 =\nAnswer:"],
                  [["oxygen", "carbon dioxide", "helium", "steam", "smoke"], ["4", "five", "22", "zero", "a fish"]],
                  ["B", "A"])


def test_map3_ranks_by_score_and_breaks_ties_in_letter_order():
    scores = np.array([[0.0, 3.0, 1.0, 0.0, 0.0],     # B first: 1
                       [1.0, 1.0, 1.0, 2.0, 0.0],     # D, then the tie A B C in letter order: B third, C out
                       [5.0, 4.0, 3.0, 2.0, 1.0]])    # answer E not in the top 3: 0
    assert task_row(scores, scores, ["B", "B", "E"])["map3"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert task_row(scores, scores, ["B", "C", "E"])["map3"] == pytest.approx(1 / 3)
    assert rankings(scores) == ["B C A", "D A B", "A B C"]


def test_task_row_counts_questions_whose_top_three_moved():
    reference = np.array([[3.0, 2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]])
    swapped = np.array([[2.0, 3.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 2.0]])   # row 0's order changes
    row = task_row(swapped, reference, ["A", "E"])
    assert row == {"map3": pytest.approx((0.5 + 1) / 2), "se": pytest.approx(0.25), "changed": 1}
    assert task_row(reference, reference, ["A", "E"])["changed"] == 0


def test_a_task_needs_one_answer_and_one_option_list_per_prefix():
    with pytest.raises(ValueError, match="same non-zero count"):
        OptionTask("bad", ["a", "b"], [["x"] * 5], ["A", "B"])


def test_runtime_option_scores_are_mean_logprobs_and_cached(tiny_exports, tmp_path, monkeypatch):
    from edge.runtime.causal_lm import CausalLM

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    scores = onnx_option_scores(tiny_exports["fp32"], TASK)
    assert scores.shape == (2, 5) and list((tmp_path / "generator" / "quality").glob("task-*.npz"))
    lm = CausalLM(tiny_exports["fp32"])
    for i, (prefix, options) in enumerate(zip(TASK.prefixes, TASK.options)):
        for j, option in enumerate(options):   # one teacher-forced pass per option, no shared prefix cache
            total, per_token = lm.score(prefix, f" {option}")
            assert scores[i, j] == pytest.approx(total / len(per_token), abs=1e-4)
    np.testing.assert_array_equal(onnx_option_scores(tiny_exports["fp32"], TASK), scores)


def test_pytorch_option_scores_match_the_runtime(tiny_exports, tiny_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    torch_scores = torch_option_scores(str(tiny_llm), TASK)
    np.testing.assert_allclose(torch_scores, onnx_option_scores(tiny_exports["fp32"], TASK), atol=1e-3)


def test_the_table_gains_a_task_column_when_rows_have_one():
    row = {"variant": "int4", "size_mb": 86.5, "prefill_tok_s": 500.0, "decode_tok_s_1t": (60.0, 55.0, 62.0),
           "decode_tok_s_2t": (90.0, 80.0, 95.0), "decode_ratio": (3.1, 2.9, 3.3), "wall_64_s": 0.8,
           "peak_rss_mb": 300.0, "perplexity": 50.0, "perplexity_delta": 0.2, "agreement": 0.6, "roofline": 0.4}
    lines = format_table([{**row, "task": {"map3": 0.4267, "changed": 3}}, {**row, "variant": "b", "task": None}],
                         StudyConfig()).splitlines()
    assert lines[0].endswith("| task MAP@3 (top 3 unlike fp32) |")
    assert lines[2].endswith("| 0.4267 (3) |") and lines[3].endswith("| - |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "task MAP@3" not in format_table([row], StudyConfig())
