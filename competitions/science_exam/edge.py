"""What `make edge COMP=science-exam` ports: the submitted `ensemble`, i.e. `lm_rag` (retrieval +
the causal LM's option scores) rank-averaged with `finetuned_mc` (the fine-tuned multiple-choice
MiniLM), as a device program; `--set edge_mc=0` ports `lm_rag` alone.

    ps = spec(dataset, seed=42, fast=False, options={})    # a common.port_set.PortSet
    make edge COMP=science-exam [ARGS="--set edge_lm=int8 --set edge_mc=0"]

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
(host and device), so no question finds its own answer. The host's row is the ported variant's
MAP@3 there, the device's the bundle's answers, both scored here.

The multiple-choice member on the device is one model fine-tuned on every question the memory
keeps (mc_step.full_model; the solution predicts with its fold models instead), exported as an
ONNX pair scorer by edge/retriever/choice.py (int8 only where it keeps fp32's best option). The
host's row is the solution's own ensemble: on the test questions, lm_rag with the fold models'
multiple-choice scores (the submission's); on held-out train questions (no test answers), with
the full model's, which never saw them, and the test questions' too.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from common.data import Dataset, read_table
from common.errors import UserError
from common.metrics import get_metric
from common.port_set import PortSet
from common.schema import ID, STR, TableSchema
from common.solution import RunContext
from competitions.science_exam import COMPETITION, OPTIONS
from competitions.science_exam.examples_step import SolvedMemory, with_examples
from common.ensemble import rank_average
from competitions.science_exam.lm_step import lm_option_scores
from competitions.science_exam.mc_step import choice_pairs, finetuned_scores, full_model, model_scores
from competitions.science_exam.questions import Questions, to_letters
from competitions.science_exam.retrieval_step import search_contexts
from competitions.science_exam.solution import _config

DEFAULT_LM = "int4-q41"   # an edge/generator/export.py SHIPPABLE variant
CHOICE_PARITY_QUESTIONS = 40   # questions whose option pairs check the exported multiple-choice model
HOLDOUT_TRAIN = 100       # train questions held out when the test answers are not there


def question_text(prompt: str, options: list[str], key) -> str:
    """One question as the device reads it: a JSON object with id, prompt and A-E."""
    return json.dumps({"id": key, "prompt": prompt, **dict(zip(OPTIONS, options))}, ensure_ascii=False)


LABELS = TableSchema("test_labels.csv", {"id": ID, "answer": STR})


def test_labels(data: Dataset, test: Questions) -> list[str]:
    path = Path(data.path) / "test_labels.csv"
    if not path.is_file():
        raise UserError(f"no {path}: the port is scored on labelled test questions (the sample has them)")
    answers = dict(read_table(path, LABELS).select("id", "answer").iter_rows())     # a bad file: one line
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
    with_choice = str(options.pop("edge_mc", "1")).strip().lower()
    if with_choice not in ("0", "1", "true", "false"):
        raise UserError(f"edge_mc must be 1 (port the ensemble) or 0 (lm_rag alone), got {with_choice!r}")
    with_choice = with_choice in ("1", "true")
    ctx = RunContext(COMPETITION, data, seed=seed, fast=fast, options=options, also_known=("edge_lm", "edge_mc"))
    cfg = _config(ctx)
    ported = "ensemble" if with_choice else "lm_rag"
    if cfg.submit and cfg.submit != ported:
        raise UserError(f"submit: the port is {ported} (edge_mc={int(with_choice)}), not {cfg.submit}: "
                        f"--set edge_mc={0 if with_choice else 1} ports {'lm_rag' if with_choice else 'the ensemble'}")
    train = Questions.from_frame(data.tables["train"], "train.csv")
    test = Questions.from_frame(data.tables["test"], "test.csv")
    held, truth, holdout_what = held_out_rows(data, train, test, seed)
    if with_choice and not 0 <= cfg.ensemble_weight <= 1:
        raise UserError(f"the port blends with a fixed ensemble_weight (0 to 1), got {cfg.ensemble_weight}; "
                        f"or --set edge_mc=0")
    (train_passages, test_passages), retrieval_info, retriever = search_contexts(cfg, data, [train, test])
    kept = np.arange(len(train)) if held is None else np.setdiff1d(np.arange(len(train)), held)
    memory = SolvedMemory.build(cfg, train.subset(kept), ctx.fold_ids()[kept],
                                held_out=None if held is None else train.subset(held))
    contexts = with_examples(test_passages, memory.retrieved(test) if cfg.examples else None)
    scores, _ = lm_option_scores(cfg, test, contexts, "lm_rag test")
    choice = _choice_member(cfg, ctx, train, test, kept, held, train_passages, test_passages) if with_choice else None

    def letters(lm_scores: np.ndarray, which: str) -> list[str]:
        """The ported variant's top 3: lm_rag's, or its rank average with the multiple-choice member's."""
        if choice is None:
            return to_letters(lm_scores)
        return to_letters(rank_average([lm_scores, choice[which]], [cfg.ensemble_weight, 1 - cfg.ensemble_weight]))

    host = letters(scores, "test_scores")
    inputs = [question_text(p, o, i) for i, p, o in zip(test.ids, test.prompts, test.options)]
    holdout_inputs, holdout_host, holdout_contexts = inputs, host, contexts
    if held is not None:
        questions = train.subset(held)
        passages = None if train_passages is None else [train_passages[i] for i in held]
        holdout_contexts = with_examples(passages, memory.retrieved(questions) if cfg.examples else None)
        held_scores = lm_option_scores(cfg, questions, holdout_contexts, "lm_rag held-out train")[0]
        holdout_host = letters(held_scores, "held_scores")
        holdout_inputs = [question_text(p, o, i) for i, p, o in zip(questions.ids, questions.prompts, questions.options)]

    settings = {"top_k": cfg.top_k, "candidates": retriever.config.candidates, "examples": cfg.examples,
                "context_words": cfg.context_words, "rrf_k": retriever.config.rrf_k, "lm_norm": cfg.lm_norm,
                "max_seq_length": retriever.config.max_seq_length, "lm_variant": lm_variant}
    if choice:
        settings["choice"] = {"max_length": cfg.mc_max_length, "context_words": cfg.mc_context_words,
                              "lm_weight": cfg.ensemble_weight}
    metric = get_metric("map@3")
    sources = {"retriever": retriever, "queries": train.queries() + test.queries(), "encoder": cfg.encoder,
               "lm": cfg.lm, "examples": memory.examples if cfg.examples else [], "memory_vectors": memory.vectors,
               "holdout_contexts": holdout_contexts,
               "calibration_texts": calibration_texts(train.subset(kept),
                                                      None if train_passages is None else [train_passages[i] for i in kept])}
    if choice:
        sources.update(choice_model=choice["model"], choice_tokenizer=choice["tokenizer"], choice_pairs=choice["pairs"])
    info = {"host_variant": "ensemble" if choice else "lm_rag", "encoder": cfg.encoder, "lm": cfg.lm, "lm_variant": lm_variant,
            "retrieval": {k: v for k, v in retrieval_info.items() if isinstance(v, (int, float, str))},
            "holdout": holdout_what, "data_source": data.source}
    teacher = (f"lm_rag: {cfg.lm} mean option log-likelihood after top {cfg.top_k} passages (first "
               f"{cfg.context_words} words) + {cfg.examples} retrieved solved questions")
    if choice:
        teacher = (f"ensemble: rank average of {teacher} (weight {cfg.ensemble_weight}) and finetuned_mc: "
                   f"{cfg.mc_model} fine-tuned as multiple choice on the first {cfg.mc_context_words} words of the passages")
    return PortSet(kind="science_answerer", plan={"settings": settings}, metric="map@3", teacher=teacher,
                   input_columns=("question",), output_column="prediction", inputs=inputs, outputs=host,
                   holdout_inputs=holdout_inputs, holdout_outputs=holdout_host,
                   score=lambda outputs: metric.fn(truth, list(outputs)),
                   sources=sources, info=info)


def _choice_member(cfg, ctx: RunContext, train: Questions, test: Questions, kept: np.ndarray, held, train_passages,
                   test_passages) -> dict:
    """The multiple-choice member: the model the device ships (fine-tuned on the kept train
    questions), the host's scores of the test questions (the solution's fold models, as submitted)
    and of held-out train questions (the shipped model, which never saw them), and option pairs
    for the export's parity check."""
    train_passages = train_passages or [""] * len(train)          # no retrieval: the model reads no context
    test_passages = test_passages or [""] * len(test)
    model, tokenizer = full_model(cfg, train.subset(kept), [train_passages[i] for i in kept], ctx.seed)
    out = {"model": model, "tokenizer": tokenizer, "test_scores": None, "held_scores": None}
    if held is None:
        out["test_scores"] = finetuned_scores(cfg, train, test, train_passages, test_passages, ctx.fold_ids(), ctx.seed)[1]
        parity = test.subset(np.arange(min(CHOICE_PARITY_QUESTIONS, len(test))))
        out["pairs"] = choice_pairs(cfg, parity, test_passages[:len(parity)])
    else:
        questions, passages = train.subset(held), [train_passages[i] for i in held]
        out["held_scores"] = model_scores(cfg, model, tokenizer, questions, passages, ctx.seed)
        out["test_scores"] = model_scores(cfg, model, tokenizer, test, test_passages, ctx.seed)
        n = min(CHOICE_PARITY_QUESTIONS, len(questions))
        out["pairs"] = choice_pairs(cfg, questions.subset(np.arange(n)), passages[:n])
    return out
