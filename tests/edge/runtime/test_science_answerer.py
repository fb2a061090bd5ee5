"""The on-device science-exam answerer (edge/runtime/science.py): its option scorer against the
host's (common.llm.scoring) on the tiny Llama, its shared-prefix KV cache against full sequences,
and its input parsing."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from edge.runtime.causal_lm import CausalLM
from edge.runtime.choices import as_question, read_questions, top_letters
from edge.runtime.records import csv_rows
from edge.runtime.science import Answerer, build_prefix

QUESTIONS = [
    ("Plants take in which gas to make food?", ["helium", "carbon dioxide", "neon", "argon", "wet sand"],
     "Photosynthesis: plants take in carbon dioxide and water."),
    ("Which planet is known as the red planet?", ["Venus", "Jupiter", "Mars", "Saturn", "a violin"], None),
    ("Fish breathe underwater using", ["lungs", "feathers", "gills", "leaves and branches of trees", "old shoes"],
     "Fish breathe by taking oxygen from water with their gills.\n\nQuestion: Ice is water in which state?\n"
     "Answer: solid"),
]


def scorer(lm: CausalLM, norm: str = "mean") -> Answerer:
    """An Answerer with only its LM and scoring settings (no bundle: option_scores needs no index)."""
    qa = Answerer.__new__(Answerer)
    qa.lm, qa.norm = lm, norm
    return qa


def test_shared_prefix_scores_equal_full_sequence_scores(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    for prompt, options, context in QUESTIONS:
        prefix = build_prefix(prompt, context)
        cached = scorer(lm, "sum").option_scores(prefix, options)
        full = [lm.score(prefix, f" {o}")[0] for o in options]
        np.testing.assert_allclose(cached, full, atol=1e-4)


def test_option_ranking_equals_the_hosts_on_the_tiny_model(tiny_llm, tiny_exports):
    from common.llm.scoring import score_continuation_groups

    lm = CausalLM(tiny_exports["fp32"])
    prefixes = [build_prefix(p, c) for p, _, c in QUESTIONS]
    host = score_continuation_groups(str(tiny_llm), prefixes, [[f" {o}" for o in opts] for _, opts, _ in QUESTIONS])
    for prefix, (_, options, _), h in zip(prefixes, QUESTIONS, host):
        device = scorer(lm).option_scores(prefix, options)
        np.testing.assert_allclose(device, h.mean, atol=1e-3)
        assert top_letters(device) == top_letters(list(h.mean))


def test_questions_are_read_from_csv_and_json_lines():
    row = {"id": 7, "prompt": "Q?", "A": "a", "B": "b", "C": "c", "D": "d", "E": "e"}
    assert as_question(json.dumps(row)) == ("Q?", "a", "b", "c", "d", "e")
    assert read_questions(json.dumps(row) + "\n", "jsonl", csv_rows) == [(7, ("Q?", "a", "b", "c", "d", "e"))]
    csv_text = "id,prompt,A,B,C,D,E\n3,Q?,a,b,c,d,e\n"
    assert read_questions(csv_text, "csv", csv_rows) == [("3", ("Q?", "a", "b", "c", "d", "e"))]
    with pytest.raises(ValueError):
        read_questions("id,prompt\n1,Q?\n", "csv", csv_rows)
    with pytest.raises(ValueError, match="line 3: not valid JSON"):
        read_questions(json.dumps(row) + "\n\n{bad\n", "jsonl", csv_rows)
    unnamed = {k: v for k, v in row.items() if k != "id"}
    assert [key for key, _ in read_questions(f"{json.dumps(unnamed)}\n\n{json.dumps(unnamed)}\n", "jsonl", csv_rows)] == [0, 1]


@pytest.mark.parametrize("field, said", [(None, "line 1: empty B"), ([1, 2], "line 1: B is [1, 2], not text"),
                                         (True, "line 1: B is true, not text")])
def test_a_json_option_that_is_not_text_is_refused_by_name(field, said):
    row = {"prompt": "Q?", "A": "a", "B": field, "C": "c", "D": "d", "E": 5}
    with pytest.raises(ValueError, match=re.escape(said)):
        read_questions(json.dumps(row) + "\n", "jsonl", csv_rows)
    row["B"] = 2.5                                 # numbers are options as written
    assert read_questions(json.dumps(row) + "\n", "jsonl", csv_rows)[0][1][2:] == ("2.5", "c", "d", "5")


def test_a_csv_header_naming_an_option_twice_is_refused():
    with pytest.raises(ValueError, match="the CSV header names B more than once"):
        read_questions("id,prompt,A,B,C,D,E,B\n1,Q?,a,b,c,d,e,f\n", "csv", csv_rows)


@pytest.mark.parametrize("bad", [["--bench-repeats", "0"], ["--threads", "-2"], ["--bench-threads", "x,2"],
                                 ["--max-bytes", "0"], ["--batch-size", "0"]])
def test_the_command_line_refuses_bad_counts_in_one_line(bad, tmp_path, capsys):
    from edge.runtime.science import main

    assert main(["--bundle", str(tmp_path), "--bench", *bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("mode", ["--self-test", "--bench"])
def test_more_threads_than_four_a_core_are_refused_before_the_bundle_is_read(mode, tmp_path, capsys):
    from edge.runtime.science import main

    assert main(["--bundle", str(tmp_path), mode, "--threads", "100000"]) == 2
    assert "--threads 100000 is more than this machine's" in capsys.readouterr().err


def test_the_command_line_refuses_input_over_the_cap_or_not_utf8_in_one_line(tmp_path, capsys):
    from edge.runtime.science import main

    (tmp_path / "q.csv").write_bytes(b"id,prompt,A,B,C,D,E\n" + b"1,Q?,a,b,c,d,e\n" * 10)
    assert main(["--bundle", str(tmp_path), "--file", str(tmp_path / "q.csv"), "--max-bytes", "64"]) == 2
    assert capsys.readouterr().err.strip() == f"error: input is {20 + 15 * 10} bytes, over the --max-bytes cap of 64"
    (tmp_path / "bad.csv").write_bytes(b"id,prompt\n\xff\n")
    assert main(["--bundle", str(tmp_path), "--file", str(tmp_path / "bad.csv")]) == 2
    assert capsys.readouterr().err.strip() == "error: input is not valid UTF-8 (bad byte at offset 10)"
