"""`kllm bench chat_history` (bench/chat_history.py): the summary of timed rounds, its table, and
its flags. The two ways' answers are compared on the tiny Llama in
tests/edge/runtime/test_generate_chat.py (a kept cache answers as a full prefill of the same ids)."""
from __future__ import annotations

import pytest

from bench.chat_history import format_table, main, summarize
from common.errors import UserError


def test_each_round_gives_a_ratio_of_its_own_totals_and_last_turns():
    rounds = [{"refill": [1.0, 2.0, 3.0], "cached": [1.0, 1.0, 1.0]},      # totals 6 / 3, last 3 / 1
              {"refill": [1.0, 2.0, 5.0], "cached": [1.0, 1.0, 2.0]},      # 8 / 4, 5 / 2
              {"refill": [2.0, 2.0, 2.0], "cached": [1.0, 1.0, 1.0]}]      # 6 / 3, 2 / 1
    summary = summarize(rounds)
    assert summary["ratio_total"] == (2.0, 2.0, 2.0)
    assert summary["ratio_last"] == (2.5, 2.0, 3.0)
    assert summary["refill"]["total"] == (6.0, 6.0, 8.0) and summary["cached"]["last"] == (1.0, 1.0, 2.0)
    table = format_table(summary, turns=3, identical=2)
    assert "| cached (`Conversation`) | 3.00 (3.00-4.00) | 1.00 (1.00-2.00) | 2 of 3 |" in table
    assert "| **refill / cached** | **2.00 (2.00-2.00)x** | 2.50 (2.00-3.00)x | |" in table


@pytest.mark.parametrize("argv, message", [
    (["--variant", "int5"], "--variant names one of"),
    (["--rounds", "0"], "must be at least 1"),
    (["--turns", "99"], "--turns is at most 24"),
    (["--threads", "x"], "invalid int value"),
])
def test_bad_flags_are_user_errors(argv, message):
    with pytest.raises(UserError, match=message):       # the CLI prints it as one line, exit 2
        main(argv)
