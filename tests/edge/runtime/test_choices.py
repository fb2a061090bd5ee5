"""edge/runtime/choices.py: letters, rank blend and the near-tie test, against the host's definitions."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import rankdata

from edge.runtime.choices import rank_blend, row_ranks, swapped_within, top_letters
from edge.runtime.records import InputError, csv_rows


def test_top_letters_are_the_best_three_with_ties_in_letter_order():
    assert top_letters([0.1, 0.5, 0.5, -1.0, 0.2]) == "B C E"
    assert top_letters([-3.0, -1.0, -2.0, -5.0, -4.0]) == "B C A"


def test_row_ranks_are_scipys_average_ranks_scaled_to_the_unit_interval():
    rng = np.random.default_rng(0)
    for _ in range(50):
        values = rng.integers(0, 4, size=5).astype(float)       # many ties
        np.testing.assert_allclose(row_ranks(values), (rankdata(values) - 1) / 4)
    assert row_ranks([2.0]).tolist() == [0.0]


def test_a_blend_of_one_member_keeps_its_order_and_equal_weights_split_a_disagreement():
    lm = [-1.0, -2.0, -3.0, -4.0, -5.0]
    assert top_letters(rank_blend([lm], [1.0])) == "A B C"
    blended = rank_blend([lm, lm[::-1]], [0.5, 0.5])            # each member's best is the other's worst
    assert np.ptp(blended) < 1e-2                               # only the 1e-3 z-score tie-break is left


def test_a_smoke_letter_swap_passes_only_between_options_that_were_a_near_tie():
    host = [-4.33, -6.346, -17.74, -4.43, -6.357]        # the emulated Pi's smoke question: B and E 0.011 apart
    device = [-4.29, -6.325, -17.46, -4.40, -6.242]      # Arm's rounding put E above B
    assert swapped_within(device, host, 1.0) and swapped_within(host, host, 0.0)
    assert not swapped_within([-4.50, -6.3, -17.5, -4.30, -6.4], host, 0.05)  # A and D were 0.1 apart: a real change


def test_questions_in_json_lines_may_hold_unicode_line_separators():
    from edge.runtime.choices import read_questions

    row = {"id": 3, "prompt": "Which\u2028one?", "A": "a", "B": "b", "C": "c\u0085d", "D": "d", "E": "e"}
    text = json.dumps(row, ensure_ascii=False) + "\r\n\n"
    assert read_questions(text, "jsonl", csv_rows) == [(3, ("Which\u2028one?", "a", "b", "c\u0085d", "d", "e"))]


@pytest.mark.parametrize("text, said", [
    ('id,prompt,A,B,C,D,E\n0,What is water?,H2O,CO2,NaCl\n', "CSV line 2 has 5 fields, the header has 7"),
    ('id,prompt,A,B,C,D,E\n0,"A\nlong one",a,b,c,d,e\n1,Q,a,b,c,d,e,extra\n', "CSV line 4 has 8 fields"),
    ('id,prompt,A,B,C,D,E\n0,Q,a,b,c,d,e\n\n1, ,a,b,,d,e\n', "CSV line 4: empty prompt, C"),
    ('{"prompt": "Q", "A": "a", "B": "", "C": "c", "D": "d", "E": "e"}\n', "line 1: empty B"),
    ('id,prompt,A,B,C,D,E\n\n', "at least one row"),
    ('id,prompt,A,B,C,D,E\n1,"Q,a,b,c,d,e\n2,R,a,b,c,d,e\n', "CSV line 2: a quote that opens a field here is never closed"),
])
def test_a_malformed_question_is_named_by_its_line_before_the_model_loads(text, said):
    from edge.runtime.choices import read_questions

    with pytest.raises((ValueError, InputError), match=said):
        read_questions(text, "jsonl" if text.startswith("{") else "csv", csv_rows)


def test_blank_csv_rows_are_skipped_and_ids_kept():
    from edge.runtime.choices import read_questions

    text = 'id,prompt,A,B,C,D,E\r\n7,"Q\r\none",a,b,c,d,e\r\n\r\n,,,,,,\r\n9,R,a,b,c,d,e\r\n'
    assert read_questions(text, "csv", csv_rows) == [("7", ("Q\none", "a", "b", "c", "d", "e")), ("9", ("R", "a", "b", "c", "d", "e"))]
