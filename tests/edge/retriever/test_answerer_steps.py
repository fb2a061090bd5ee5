"""The science_answerer port kind (edge/retriever/steps.py) on a toy corpus and the tiny Llama: the
bundle builds, its self-test passes through detect.py (which hands the bundle to science.py), and
the device answers questions from a CSV."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import polars as pl

from common.metrics import get_metric
from common.port_set import PortSet
from common.retrieval import HybridRetriever, RetrievalConfig
from common.retrieval.dense import embed_passages
from edge.retriever.steps import AnswererSteps
from edge.runtime.causal_lm import CausalLM

FACTS = ["Plants take in carbon dioxide to make food.", "Mars is called the red planet.",
         "Fish breathe with their gills.", "A magnet attracts iron."]
QUESTIONS = [("Plants take in which gas?", ["helium", "carbon dioxide", "neon", "argon", "sand"], "B"),
             ("Which planet is red?", ["Venus", "Jupiter", "Mars", "Saturn", "Pluto"], "C"),
             ("Fish breathe using", ["lungs", "feathers", "gills", "leaves", "shoes"], "C")]


def question_text(i: int, prompt: str, options: list[str]) -> str:
    return json.dumps({"id": i, "prompt": prompt, **dict(zip("ABCDE", options))})


def toy_port_set(lm: str) -> PortSet:
    corpus = pl.DataFrame({"id": list(range(8)), "title": [""] * 8, "source": ["toy"] * 8,
                           "text": FACTS + [f"{t} is a hobby with clubs and rules." for t in ("Chess", "Golf", "Jazz", "Opera")]})
    retriever = HybridRetriever.build(corpus, RetrievalConfig(top_k=2, candidates=3, show_progress=False))
    queries = [f"{p} {' '.join(o)}" for p, o, _ in QUESTIONS]
    retriever.search(queries)
    examples = ["Question: Ice is water in which state?\nAnswer: solid", "Question: Bees carry pollen between\nAnswer: flowers"]
    vectors, _ = embed_passages(["Ice is water in which state? solid gas", "Bees carry pollen between flowers rocks"],
                                show_progress=False)
    settings = {"top_k": 2, "candidates": 3, "examples": 1, "context_words": 30, "rrf_k": 60.0, "lm_norm": "mean",
                "max_seq_length": 128, "lm_variant": "fp32"}
    inputs = [question_text(i, p, o) for i, (p, o, _) in enumerate(QUESTIONS)]
    truth = [a for *_, a in QUESTIONS]
    return PortSet(kind="science_answerer", plan={"settings": settings}, metric="map@3", teacher="toy",
                   input_columns=("question",), output_column="prediction", inputs=inputs,
                   outputs=["A B C"] * 3, holdout_inputs=inputs, holdout_outputs=["A B C"] * 3,
                   score=lambda outs: get_metric("map@3").fn(truth, list(outs)),
                   sources={"retriever": retriever, "queries": queries, "encoder": "minilm", "lm": lm,
                            "examples": examples, "memory_vectors": vectors, "holdout_contexts": None})


def test_the_answerer_bundle_self_tests_and_answers_a_csv(tmp_path, tiny_llm, tiny_exports, generator_cache,
                                                          monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))       # the tiny Llama's fp32 export is there
    steps = AnswererSteps(toy_port_set(str(tiny_llm)))
    info = steps.bundle(tmp_path / "out" / "bundle", {"competition": "toy"})
    config = json.loads((info.path / "config.json").read_text())
    assert config["kind"] == "science_answerer" and config["index"]["passages"] <= 8
    assert (info.path / "model.onnx").is_file() and (info.path / "encoder.onnx").is_file()
    assert CausalLM(info.path).logits_from       # the prefix's prefill skips the LM head but for its last token

    done = subprocess.run([sys.executable, "-I", "detect.py", "--self-test"], cwd=info.path, capture_output=True,
                          text=True, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and report["ok"] and report["same_context"] == 1, done.stderr[-500:]

    # Kaggle's ids, in a CSV saved with a byte-order mark (as Excel saves it): the ids must come back
    rows = ["id,prompt,A,B,C,D,E"] + [",".join([str(100 + i), p, *o]) for i, (p, o, _) in enumerate(QUESTIONS)]
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    done = subprocess.run([sys.executable, "-I", "detect.py", "--file", str(tmp_path / "q.csv"), "--format", "csv"],
                          cwd=info.path, capture_output=True, text=True, timeout=300)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines[0] == "id,prediction" and len(lines) == 4, done.stderr[-500:]
    assert [line.split(",")[0] for line in lines[1:]] == ["100", "101", "102"]
    predictions = steps.device_outputs(info.path)
    assert [line.split(",")[1] for line in lines[1:]] == predictions
    assert all(sorted(p.split()) == sorted(set(p.split())) and len(p.split()) == 3 for p in predictions)
    assert np.isfinite(steps.ps.score(predictions))


def test_with_the_multiple_choice_member_the_bundle_blends_both_ranks(tmp_path, tiny_llm, generator_cache,
                                                                      minilm_tokenizer, monkeypatch):
    from test_choice import tiny_choice_model

    from edge.runtime.choices import rank_blend, top_letters
    from edge.runtime.science import Answerer

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    ps = toy_port_set(str(tiny_llm))
    model, tokenizer = tiny_choice_model(minilm_tokenizer)
    ps.plan["settings"]["choice"] = {"max_length": 32, "context_words": 8, "lm_weight": 0.5}
    ps.sources.update(choice_model=model, choice_tokenizer=tokenizer,
                      choice_pairs=[(FACTS[0], f"{QUESTIONS[0][0]} Answer: {o}") for o in QUESTIONS[0][1]])
    steps = AnswererSteps(ps)
    info = steps.bundle(tmp_path / "out" / "bundle", {"competition": "toy"})
    assert (info.path / "choice.onnx").is_file() and "multiple-choice" in steps.describe()
    assert steps.details["choice_parity_max_abs_diff"] < 1e-4

    done = subprocess.run([sys.executable, "-I", "detect.py", "--self-test"], cwd=info.path, capture_output=True,
                          text=True, timeout=300)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0 and report["ok"], done.stderr[-500:]

    qa = Answerer(info.path)
    prompt, options, _ = QUESTIONS[1]
    answer = qa.answer(prompt, options)
    passages, _ = qa.retrieve(prompt, options)
    first = " ".join(passages.split()[:8])
    assert answer["choice_scores"] == qa.choice.scores(first, [f"{prompt} Answer: {o}" for o in options])
    assert answer["prediction"] == top_letters(rank_blend([answer["scores"], answer["choice_scores"]], [0.5, 0.5]))
    assert steps.device_outputs(info.path)[1] == answer["prediction"]
