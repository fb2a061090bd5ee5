"""`kllm bench edge --runs N`: each variant's speed-up is the median of the runs' own ratios,
with their min-max; a run count below 1 is a user error."""
import pytest

from bench.edge import main, speedup_table
from common.errors import UserError


def run(fp32_ms, int8_ms, torch_ms=30.0):
    return [{"variant": "pytorch fp32", "p50_1t_ms": torch_ms, "score": 0.9},
            {"variant": "onnx fp32", "p50_1t_ms": fp32_ms, "score": 0.9},
            {"variant": "onnx int8", "p50_1t_ms": int8_ms, "score": 0.89}]


def test_ratios_are_medians_of_per_run_ratios_with_their_spread():
    table = speedup_table([run(20, 10), run(30, 10), run(20, 5)])   # int8 / fp32 ratios 2, 3, 4
    line = next(row for row in table.splitlines() if row.startswith("| onnx int8 |"))
    assert line.startswith("| onnx int8 | 3.00x (2.00-4.00) | 3.00x (3.00-6.00) | 0.8900 |")
    assert "median of 3 runs" in table.splitlines()[0]


@pytest.mark.parametrize("args, fragment", [(["--runs", "0"], "--runs must be at least 1"),
                                             (["--seed", "-1"], "seed -1 is out of range")])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)
