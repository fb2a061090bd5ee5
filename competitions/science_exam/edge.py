"""What `make edge COMP=science-exam` ports: `lm_rag` (retrieval + the causal LM's option scores),
the solution's best single pipeline that needs no fine-tuned model, as a device program.

    ps = spec(dataset, seed=42, fast=False, options={})    # a common.port_set.PortSet
    make edge COMP=science-exam [ARGS="--set edge_lm=int8"]

The host side is the solution's own steps (retrieval over train + test questions in one search,
the solved-question memory, lm_option_scores: cached); the searched retriever and the memory go
to the kind's steps as `sources`. The device gets (edge/retriever/steps.py): the
encoder as int8 ONNX, a compact index (edge/retriever/index.py: the passages the host's search
could return for the sample's questions, TF-IDF and float16 vectors, the 400 solved train
questions), and the causal LM exported by edge/generator (`edge_lm`, default int4-q41, the study's
int4 on the weights' own Q4_1 grid; `int8-smooth` is smoothed on the memory's questions with their
retrieved passages, never on a held-out row). Held-out rows: the test questions with their hidden answers
(test_labels.csv beside the data: the sample has it); without it (Kaggle's files), up to
HOLDOUT_TRAIN train questions drawn with the seed, which then leave the solved-question memory
(host and device), so no question finds its own answer. The host's row is lm_rag's MAP@3 there,
the device's the bundle's answers, both scored here. The submitted `ensemble` also needs the fine-tuned
multiple-choice model, which is not ported.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from common.data import Dataset
from common.errors import UserError
from common.metrics import get_metric
from common.port_set import PortSet
from common.solution import RunContext
from competitions.science_exam import COMPETITION, OPTIONS
from competitions.science_exam.examples_step import SolvedMemory, with_examples
from competitions.science_exam.lm_step import lm_option_scores
from competitions.science_exam.questions import Questions, to_letters
from competitions.science_exam.retrieval_step import search_contexts
from competitions.science_exam.solution import _config

DEFAULT_LM = "int4-q41"   # an edge/generator/export.py SHIPPABLE variant
HOLDOUT_TRAIN = 100       # train questions held out when the test answers are not there


def question_text(prompt: str, options: list[str], key) -> str:
    """One question as the device reads it: a JSON object with id, prompt and A-E."""
    return json.dumps({"id": key, "prompt": prompt, **dict(zip(OPTIONS, options))}, ensure_ascii=False)


def test_labels(data: Dataset, test: Questions) -> list[str]:
    path = Path(data.path) / "test_labels.csv"
    if not path.is_file():
        raise UserError(f"no {path}: the port is scored on labelled test questions (the sample has them)")
    answers = dict(pl.read_csv(path).select("id", "answer").iter_rows())
    missing = [i for i in test.ids if i not in answers]
    if missing:
        raise UserError(f"{path} has no answer for test id {missing[0]}")
    return [str(answers[i]).strip() for i in test.ids]


def held_out_rows(data: Dataset, train: Questions, test: Questions, seed: int) -> tuple[np.ndarray | None, list[str], str]:
    """(train rows held out, or None for the test questions; their answers; what they are)."""
    if (Path(data.path) / "test_labels.csv").is_file():
        return None, test_labels(data, test), f"{len(test)} test questions, answers from test_labels.csv"
    n = min(HOLDOUT_TRAIN, len(train) // 5)
    if train.labels is None or n < 1:
        raise UserError(f"no {Path(data.path) / 'test_labels.csv'} and too few answered train questions "
                        f"({len(train)}) to hold some out: the port needs labelled questions to be scored on")
    rows = np.sort(np.random.default_rng(seed).choice(len(train), n, replace=False))
    return rows, [OPTIONS[i] for i in train.labels[rows]], (
        f"{n} train questions drawn with seed {seed} (no test_labels.csv), left out of the solved-question memory")


def calibration_texts(questions: Questions, passages: list[list[str]] | None) -> list[str]:
    """What the LM reads for each question (its passages, the prompt, the options): int8-smooth's
    calibration text."""
    return ["\n".join([*(passages[i] if passages else []), questions.prompts[i], *questions.options[i]])
            for i in range(len(questions))]


def spec(data: Dataset, seed: int = 42, fast: bool = False, options: dict | None = None) -> PortSet:
    options = dict(options or {})
    lm_variant = options.pop("edge_lm", DEFAULT_LM)
    ctx = RunContext(COMPETITION, data, seed=seed, fast=fast, options=options, also_known=("edge_lm",))
    cfg = _config(ctx)
    train = Questions.from_frame(data.tables["train"], "train.csv")
    test = Questions.from_frame(data.tables["test"], "test.csv")
    held, truth, holdout_what = held_out_rows(data, train, test, seed)
    (train_passages, test_passages), retrieval_info, retriever = search_contexts(cfg, data, [train, test])
    kept = np.arange(len(train)) if held is None else np.setdiff1d(np.arange(len(train)), held)
    memory = SolvedMemory.build(cfg, train.subset(kept), ctx.fold_ids()[kept])
    contexts = with_examples(test_passages, memory.retrieved(test) if cfg.examples else None)
    scores, _ = lm_option_scores(cfg, test, contexts, "lm_rag test")
    host = to_letters(scores)
    inputs = [question_text(p, o, i) for i, p, o in zip(test.ids, test.prompts, test.options)]
    holdout_inputs, holdout_host, holdout_contexts = inputs, host, contexts
    if held is not None:
        questions = train.subset(held)
        passages = None if train_passages is None else [train_passages[i] for i in held]
        holdout_contexts = with_examples(passages, memory.retrieved(questions) if cfg.examples else None)
        holdout_host = to_letters(lm_option_scores(cfg, questions, holdout_contexts, "lm_rag held-out train")[0])
        holdout_inputs = [question_text(p, o, i) for i, p, o in zip(questions.ids, questions.prompts, questions.options)]

    settings = {"top_k": cfg.top_k, "candidates": retriever.config.candidates, "examples": cfg.examples,
                "context_words": cfg.context_words, "rrf_k": retriever.config.rrf_k, "lm_norm": cfg.lm_norm,
                "max_seq_length": retriever.config.max_seq_length, "lm_variant": lm_variant}
    metric = get_metric("map@3")
    sources = {"retriever": retriever, "queries": train.queries() + test.queries(), "encoder": cfg.encoder,
               "lm": cfg.lm, "examples": memory.examples if cfg.examples else [], "memory_vectors": memory.vectors,
               "holdout_contexts": holdout_contexts,
               "calibration_texts": calibration_texts(train.subset(kept),
                                                      None if train_passages is None else [train_passages[i] for i in kept])}
    info = {"host_variant": "lm_rag", "encoder": cfg.encoder, "lm": cfg.lm, "lm_variant": lm_variant,
            "retrieval": {k: v for k, v in retrieval_info.items() if isinstance(v, (int, float, str))},
            "holdout": holdout_what, "data_source": data.source}
    teacher = (f"lm_rag: {cfg.lm} mean option log-likelihood after top {cfg.top_k} passages (first "
               f"{cfg.context_words} words) + {cfg.examples} retrieved solved questions")
    return PortSet(kind="science_answerer", plan={"settings": settings}, metric="map@3", teacher=teacher,
                   input_columns=("question",), output_column="prediction", inputs=inputs, outputs=host,
                   holdout_inputs=holdout_inputs, holdout_outputs=holdout_host,
                   score=lambda outputs: metric.fn(truth, list(outputs)),
                   sources=sources, info=info)
