"""`kllm bench chat` (bench/chat.py): the comparison of greedy answers with fp32's on hand-made
token lists, and its flags. The answers themselves come from the device runtime's chat mode
(tests/edge/runtime/test_generate_chat.py)."""
from __future__ import annotations

import pytest

from bench.chat import compare, format_table, main, shared_prefix
from common.errors import UserError


def test_shared_prefix_counts_the_leading_tokens_in_common():
    assert shared_prefix([1, 2, 3], [1, 2, 4, 5]) == 2
    assert shared_prefix([7], [8]) == 0 and shared_prefix([1, 2], [1, 2]) == 2


def test_each_variant_is_compared_with_fp32_answer_by_answer():
    answers = {"fp32": [[1, 2, 3, 4], [5, 6], [9]],
               "int4": [[1, 2, 0, 0], [5, 6], [8]]}
    rows = {r["variant"]: r for r in compare(answers)}
    assert rows["fp32"]["identical"] == 3 and rows["fp32"]["share"] == (1.0, 1.0, 1.0)
    assert rows["int4"]["identical"] == 1 and rows["int4"]["first_token"] == 2
    assert rows["int4"]["shares"] == [0.5, 1.0, 0.0] and rows["int4"]["share"] == (0.5, 0.0, 1.0)
    table = format_table(list(rows.values()))
    assert "| int4 | 1 of 3 | 2 of 3 | 0.50 (0.00-1.00) |" in table


@pytest.mark.parametrize("argv, message", [
    (["--variants", "fp32,int5"], "--variants names only"),
    (["--max-new-tokens", "0"], "must be at least 1"),
    (["--threads", "x"], "invalid int value"),
])
def test_bad_flags_are_user_errors(argv, message):
    with pytest.raises(UserError, match=message):       # the CLI prints it as one line, exit 2
        main(argv)
