"""`kllm bench decode_path` (bench/decode_path.py): each variant's two ways compared on hand-made
per-token results, and its flags. The one-token-a-step measurement itself is tested on the tiny
Llama in tests/edge/generator/test_quality.py and test_device_study.py."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.decode_path import compare_ways, format_table, main
from common.errors import UserError


def test_each_way_is_against_fp32_in_the_same_way_and_the_two_ways_against_each_other():
    prefill = {"fp32": {"nll": np.array([1.0, 1.0, 1.0, 1.0]), "argmax": np.array([1, 2, 3, 4])},
               "int4": {"nll": np.array([2.0, 2.0, 2.0, 2.0]), "argmax": np.array([1, 2, 3, 0])}}
    steps = {"fp32": {"nll": np.array([1.0, 1.0, 1.0, 1.0]), "argmax": np.array([1, 2, 3, 5])},
             "int4": {"nll": np.array([2.0, 2.0, 2.5, 2.0]), "argmax": np.array([1, 2, 0, 5])}}
    rows = {r["variant"]: r for r in compare_ways(prefill, steps)}
    assert rows["int4"]["prefill"] == {"perplexity": math.exp(2.0), "agreement": 0.75}
    assert rows["int4"]["steps"]["agreement"] == 0.75                # against fp32's own steps (token 4: 5 = 5)
    assert rows["int4"]["self_agreement"] == 0.5 and rows["int4"]["max_nll_diff"] == 0.5
    assert rows["fp32"]["self_agreement"] == 0.75 and rows["fp32"]["tokens"] == 4
    assert "| int4 | 7.39 | 8.37 | 0.750 | 0.750 | 0.500 | 0.5 |" in format_table(list(rows.values()))


@pytest.mark.parametrize("argv, message", [
    (["--variants", "fp32,int5"], "--variants names only"),
    (["--eval-tokens", "0"], "--eval-tokens at least 16"),
    (["--eval-tokens", "1"], "--eval-tokens at least 16"),
    (["--threads", "x"], "invalid int value"),
])
def test_bad_flags_are_user_errors(argv, message):
    with pytest.raises(UserError, match=message):       # the CLI prints it as one line, exit 2
        main(argv)
