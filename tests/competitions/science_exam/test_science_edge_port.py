"""The science-exam port: the device's retrieval (edge/runtime/science.py over a CompactIndex and the
int8 ONNX encoder) against the host's on tiny data; and (slow) `make edge COMP=science-exam` on the
sample, without the emulated Pi."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from common.data import load_dataset
from common.registry import get_competition
from common.solution import RunContext
from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.examples_step import SolvedMemory, with_examples
from competitions.science_exam.questions import Questions
from competitions.science_exam.retrieval_step import search_contexts
from edge.retriever.encoder import export_encoder
from edge.retriever.index import CompactIndex
from edge.runtime.science import Answerer

from tiny_data import write_tiny_science_exam

# candidates scope with a small pool: the compact index is a strict subset of the corpus
OPTIONS = {"top_k": "2", "context_words": "40", "chunk_words": "40", "candidates": "3", "dense_scope": "candidates",
           "pool": "4"}


def test_device_retrieval_returns_the_hosts_passages_and_solved_questions(tmp_path):
    competition = get_competition("science-exam")
    data = load_dataset(competition, write_tiny_science_exam(tmp_path / "data"))
    ctx = RunContext(competition=competition, data=data, seed=7, folds=3, options=dict(OPTIONS))
    cfg = SolutionConfig.from_context(ctx)
    train = Questions.from_frame(data.tables["train"], "train.csv")
    test = Questions.from_frame(data.tables["test"], "test.csv")
    (train_passages, test_passages), _, retriever = search_contexts(cfg, data, [train, test])
    memory = SolvedMemory.build(cfg, train, ctx.fold_ids())

    index = CompactIndex.from_retriever(retriever, train.queries() + test.queries(), memory.examples, memory.vectors)
    summary = index.summary()
    assert summary["passages"] < summary["of"] and summary["dense"] <= summary["passages"]
    folder = tmp_path / "bundle"
    folder.mkdir()
    index.write(folder)
    files, parity, cosine = export_encoder(cfg.encoder, tmp_path / "encoder", test.queries(), 128)
    assert parity.max_abs_diff < 1e-4 and cosine > 0.98
    shutil.copyfile(files["int8"], folder / "encoder.onnx")
    shutil.copyfile(files["tokenizer"], folder / "encoder_tokenizer.json")
    settings = {"top_k": cfg.top_k, "candidates": cfg.candidates, "examples": cfg.examples,
                "context_words": cfg.context_words, "rrf_k": retriever.config.rrf_k, "lm_norm": "mean",
                "max_seq_length": 128}
    (folder / "config.json").write_text(json.dumps({"kind": "science_answerer", "settings": settings}))

    device = Answerer(folder, lm=object())          # retrieval only: no LM is loaded
    # passages, for every question whose TF-IDF list holds no zero-score passage (the host fills
    # its list with those in np.argpartition's order over the whole corpus; the device drops them)
    questions = list(zip(train.prompts + test.prompts, train.options + test.options))
    scores, _ = retriever.sparse.search(train.queries() + test.queries(), cfg.candidates)
    clean = np.flatnonzero((scores > 0).all(axis=1))
    assert len(clean) >= 3
    device.examples = 0
    host = train_passages + test_passages
    assert [device.context(*questions[i]) for i in clean] == [host[i] for i in clean]
    # the solved questions, and both joined as the host's lm_rag joins them
    device.examples, device.top_k = cfg.examples, 0
    assert [device.context(p, o) for p, o in zip(test.prompts, test.options)] == memory.retrieved(test)
    device.top_k = cfg.top_k
    both = with_examples(test_passages, memory.retrieved(test))
    same = [device.context(p, o) == h for p, o, h in zip(test.prompts, test.options, both)]
    assert sum(same) >= 2 and all("\n\nQuestion: " in h for h in both)

@pytest.mark.slow
def test_the_port_on_the_sample_builds_and_scores_near_the_host(tmp_path):
    """`make edge COMP=science-exam --skip-deploy` on the sample (real SmolLM2 int4-q41, 100 test
    questions on the host: several minutes on 2 cores)."""
    from edge.config import EdgeConfig
    from edge.pipeline import run_edge

    competition = get_competition("science-exam")
    report = run_edge(competition, load_dataset(competition), EdgeConfig(out_dir=tmp_path / "edge"),
                      skip_deploy=True)
    assert report.info["kind"] == "science_answerer"
    assert abs(report.scores["host"] - report.scores["device"]) <= 0.05
    assert (tmp_path / "edge" / "bundle" / "science.py").is_file()


def test_without_test_answers_the_port_is_scored_on_train_questions_left_out_of_the_memory(tmp_path):
    """Kaggle's files have no test_labels.csv: the spec holds out answered train questions, and
    neither the host's nor the device's solved-question memory holds them."""
    from competitions.science_exam.edge import spec

    folder = write_tiny_science_exam(tmp_path / "data", n_train=10)
    assert not (folder / "test_labels.csv").exists()
    data = load_dataset(get_competition("science-exam"), folder)
    ps = spec(data, seed=3, options=dict(OPTIONS))
    held = [json.loads(q) for q in ps.holdout_inputs]
    train = data.tables["train"]
    assert len(held) == 2 and {q["id"] for q in held} <= set(train["id"].to_list())
    assert "2 train questions drawn with seed 3" in ps.info["holdout"]
    assert len(ps.sources["examples"]) == 8 and len(ps.sources["memory_vectors"]) == 8
    assert not any(q["prompt"] in example for q in held for example in ps.sources["examples"])
    calibration = ps.sources["calibration_texts"]        # edge_lm=int8-smooth's: the memory's questions only
    assert len(calibration) == 8 and not any(q["prompt"] in text for q in held for text in calibration)
    assert len(ps.inputs) == len(data.tables["test"]) == len(ps.outputs)     # the test questions still answered
    assert 0.0 <= ps.score(ps.holdout_outputs) <= 1.0
    # the submitted ensemble is ported: the multiple-choice model the device ships never saw a held-out row
    assert ps.info["host_variant"] == "ensemble" and ps.plan["settings"]["choice"]["lm_weight"] == 0.5
    assert len(ps.sources["choice_pairs"]) == 2 * 5
    assert all(len(first.split()) <= 8 and " Answer: " in second for first, second in ps.sources["choice_pairs"])
    alone = spec(data, seed=3, options={**OPTIONS, "edge_mc": "0"})
    assert alone.info["host_variant"] == "lm_rag" and "choice" not in alone.plan["settings"]
    assert "choice_model" not in alone.sources


def test_an_unknown_option_is_refused_naming_edge_lm_among_the_known(tmp_path):
    from common.errors import UserError
    from competitions.science_exam.edge import spec

    data = load_dataset(get_competition("science-exam"))
    with pytest.raises(UserError, match=r"unknown science-exam option\(s\) nope; known: .*edge_lm"):
        spec(data, options={"nope": "1", "edge_lm": "int8"})
    with pytest.raises(UserError, match=r"edge_mc must be 1 .* or 0"):
        spec(data, options={"edge_mc": "maybe"})
    with pytest.raises(UserError, match=r"submit: the port is ensemble \(edge_mc=1\), not finetuned_mc: "
                                        r"--set edge_mc=0 ports lm_rag"):   # never a silently other teacher
        spec(data, options={"submit": "finetuned_mc"})
    with pytest.raises(UserError, match=r"submit: the port is lm_rag \(edge_mc=0\), not ensemble"):
        spec(data, options={"submit": "ensemble", "edge_mc": "0"})


@pytest.mark.parametrize("header, fragment", [("id,Answer", r"missing column\(s\) answer; found id, Answer"),
                                              ("id", r"missing column\(s\) answer")])
def test_a_test_labels_file_without_its_columns_is_one_line(tmp_path, header, fragment):
    from common.errors import UserError
    from competitions.science_exam.edge import test_labels

    write_tiny_science_exam(tmp_path)
    ds = load_dataset(get_competition("science-exam"), tmp_path)
    test = Questions.from_frame(ds.tables["test"], "test.csv")
    (tmp_path / "test_labels.csv").write_text(header + "\n" + "\n".join(f"{i},A" if "," in header else f"{i}"
                                                                       for i in test.ids) + "\n")
    with pytest.raises(UserError, match=fragment):
        test_labels(ds, test)
