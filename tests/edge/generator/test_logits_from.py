"""edge/generator/logits_from.py on the tiny Llama's exports: the Slice before the LM head changes
which rows come back and nothing else; runtimes that do not feed it see the model as before."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from tiny_llm import PROMPT

from edge.generator.logits_from import LOGITS_FROM, add_logits_from
from edge.runtime.causal_lm import CausalLM
from edge.runtime.lm_measure import genai_generate_ids
from edge.runtime.science import option_scores


def with_logits_from(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"{folder.name}-logits-from"
    shutil.copytree(folder, out)
    add_logits_from(folder / "model.onnx", out / "model.onnx")
    return out


@pytest.mark.parametrize("variant", ["fp32", "int4", "int8-dynamic"])
def test_the_last_row_alone_equals_the_full_prefill_and_the_default_is_every_row(tiny_exports, tmp_path, variant):
    before, after = CausalLM(tiny_exports[variant]), CausalLM(with_logits_from(tiny_exports[variant], tmp_path))
    assert after.logits_from and not before.logits_from
    assert [i.name for i in after.session.get_inputs()] == [i.name for i in before.session.get_inputs()]
    ids = before.encode(PROMPT)
    full, _ = before._step(ids, before._empty_past(), len(ids))
    last, past = after._step(ids, after._empty_past(), len(ids), logits_from=len(ids) - 1)
    every, _ = after._step(ids, after._empty_past(), len(ids))
    assert full.shape == every.shape == (len(ids), full.shape[1]) and last.shape == (1, full.shape[1])
    np.testing.assert_allclose(every, full, atol=1e-5)
    np.testing.assert_allclose(last[0], full[-1], atol=1e-4)
    three, _ = after._step(ids, after._empty_past(), len(ids), logits_from=len(ids) - 3)
    np.testing.assert_allclose(three, full[-3:], atol=1e-4)


@pytest.mark.parametrize("variant", ["fp32", "int4", "int8-dynamic"])
def test_generation_scoring_and_option_scores_are_unchanged(tiny_exports, tmp_path, variant):
    folder = with_logits_from(tiny_exports[variant], tmp_path)
    before, after = CausalLM(tiny_exports[variant]), CausalLM(folder)
    ids = before.encode(PROMPT)
    tokens = before.generate_ids(ids, 10, stop_at_eos=False)
    assert after.generate_ids(ids, 10, stop_at_eos=False) == tokens
    after.share_buffer = False                       # the path that feeds presents back as the next past
    assert after.generate_ids(ids, 10, stop_at_eos=False) == tokens
    for lm in (before, after):
        total, per_token = lm.score("Question: what is the capital of France? Answer:", " Paris is the capital")
        assert len(per_token) == len(lm.encode(" Paris is the capital"))
    np.testing.assert_allclose(after.score("Q: 2+2? A:", " four")[1], before.score("Q: 2+2? A:", " four")[1], atol=1e-4)
    options = ["oxygen", "carbon dioxide gas", "nitrogen", "water vapour", "light"]
    np.testing.assert_allclose(option_scores(after, "Question: Which gas do plants take in?\nAnswer:", options),
                               option_scores(before, "Question: Which gas do plants take in?\nAnswer:", options),
                               atol=1e-4)


def test_onnxruntime_genai_still_loads_and_decodes_it(tiny_exports, tmp_path):
    folder = with_logits_from(tiny_exports["int4"], tmp_path)
    ids = CausalLM(folder).encode(PROMPT)
    assert genai_generate_ids(folder, ids, 8) == CausalLM(tiny_exports["int4"]).generate_ids(ids, 8, stop_at_eos=False)


def test_the_graph_gets_one_overridable_input_and_refuses_a_second(tiny_exports, tmp_path):
    folder = with_logits_from(tiny_exports["fp32"], tmp_path)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_overridable_initializers()] == [LOGITS_FROM]
    with pytest.raises(ValueError, match="already has"):
        add_logits_from(folder / "model.onnx", tmp_path / "again.onnx")
    assert not (tmp_path / "again.onnx").exists()


def test_the_bench_times_both_prefills_and_draws_them(tiny_exports, tmp_path):
    from bench.logits_from import measure, save_chart
    from bench.logits_from import with_logits_from as bench_copy

    sliced = bench_copy(tiny_exports["int4"], tmp_path / "sliced")
    assert bench_copy(tiny_exports["int4"], tmp_path / "sliced") == sliced          # made once
    assert (tiny_exports["int4"] / "model.onnx.data").stat().st_nlink == 1     # copied: onnx refuses hard links
    rows = measure(tiny_exports["int4"], sliced, prompts=[4, 24], threads=[1], rounds=2)
    assert [(r["threads"], r["prompt"], r["rows_back"]) for r in rows] == [(1, 4, 1), (1, 24, 1)]
    assert all(r["every_ms"] > 0 and r["last_ms"] > 0 and r["ratio_min"] <= r["ratio"] <= r["ratio_max"]
               and r["max_abs_diff"] < 1e-3 for r in rows)
    assert save_chart({"int4": rows}, tmp_path / "chart.png").stat().st_size > 0
