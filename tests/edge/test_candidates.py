"""Which quantized candidate ships: none that lost too much against ONNX fp32; of the rest, those
within the teacher gap first; then the fastest at 1 thread, the smaller file of two within 10% of it."""
from types import SimpleNamespace

import pytest

from common.errors import UserError
from edge.candidates import file_name, pick_shipped
from edge.compare import VariantRow


def rows(**candidates) -> list[VariantRow]:
    """onnx fp32 scores 0.90 at 10 ms; each candidate is (score, p50 ms at 1 thread[, size MB])."""
    out = [VariantRow("onnx fp32", 10, 10.0, 0, 0, 0, 0.90)]
    return out + [VariantRow(name, (rest or (1,))[0], ms, 0, 0, 0, score)
                  for name, (score, ms, *rest) in candidates.items()]


DS = SimpleNamespace(teacher_score=0.92, metric="roc_auc", shortfall=lambda ref, got: ref - got)


def test_the_fastest_candidate_within_both_gates_ships():
    table = rows(slow=(0.90, 5.0), fast=(0.90, 3.0))
    choice = pick_shipped(table, {"slow": 0, "fast": 0}, DS, max_drop=0.01, teacher_gap=0.05)
    assert choice.label == "fast" and choice.gap_met and "fastest" in choice.why


def test_of_two_within_ten_percent_of_the_fastest_the_smaller_file_ships():
    table = rows(static=(0.90, 9.6, 51.3), dynamic=(0.90, 10.5, 16.7))          # 9% slower, 3x smaller
    choice = pick_shipped(table, {"static": 0, "dynamic": 0}, DS, max_drop=0.01, teacher_gap=0.05)
    assert choice.label == "dynamic" and choice.why.startswith("smallest of 2 within 10% of the fastest p50")
    table = rows(static=(0.90, 9.0, 51.3), dynamic=(0.90, 10.5, 16.7))          # 17% slower: speed decides
    choice = pick_shipped(table, {"static": 0, "dynamic": 0}, DS, max_drop=0.01, teacher_gap=0.05)
    assert choice.label == "static" and choice.why.startswith("fastest")


def test_a_candidate_within_the_teacher_gap_beats_a_faster_one_outside_it():
    table = rows(near=(0.90, 5.0), far=(0.895, 3.0))
    choice = pick_shipped(table, {"near": 0, "far": 0}, DS, max_drop=0.01, teacher_gap=0.022)
    assert choice.label == "near" and choice.gap_met


def test_a_candidate_that_lost_too_much_never_ships_and_none_left_stops_the_run():
    table = rows(lossy=(0.80, 1.0), kept=(0.899, 9.0))
    assert pick_shipped(table, {"lossy": 0, "kept": 0}, DS, max_drop=0.01, teacher_gap=0.0).label == "kept"
    with pytest.raises(UserError, match="lossy lost 0.1000 roc_auc .*not shipping any"):
        pick_shipped(rows(lossy=(0.80, 1.0)), {"lossy": 0}, DS, max_drop=0.01, teacher_gap=0.05)


def test_file_names_follow_the_label():
    assert file_name("onnx int8") == "student.int8.onnx"
    assert file_name("onnx int8 static") == "student.int8-static.onnx"
    assert file_name("onnx int4-q41") == "student.int4-q41.onnx"
