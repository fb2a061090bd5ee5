"""Science Exam solution: retrieval-augmented option scoring, a fine-tuned multiple-choice model,
and their rank-averaged ensemble, each cross-validated with MAP@3 on held-out folds.

    make submit COMP=science-exam
    make submit COMP=science-exam ARGS="--set corpus=/data/wiki --set lm=/models/mistral-7b --set encoder=BAAI/bge-base-en-v1.5"
    python -m cli submit --comp science-exam --folds 5 --set top_k=5 --set mc_lora=true

Steps (each cached on disk, keyed by its inputs, so a second run reuses them and says so):
1. Retrieval: chunk the corpus, embed it with `encoder` (cached), build a faiss index and a TF-IDF
   index, and fuse both rankings (RRF) for the query "question + all options" of every question.
   Second source: the `examples` most similar solved train questions (examples_step), never
   from the question's own fold.
2. Variants (config.VARIANTS), each scored on train rows it never learned from:
   lm_no_retrieval  the causal LM's mean token log-likelihood of each option after the question;
   lm_random_examples  control: after `examples` solved questions drawn at random (no retrieval);
   lm_rag           the same after the retrieved passages and solved questions (shared prefix,
                    KV cache reused for the five options);
   finetuned_mc     `mc_model` fine-tuned as AutoModelForMultipleChoice on the other folds;
   ensemble         rank average of lm_rag and finetuned_mc (equal weights; `ensemble_weight`).
3. The variant with the best CV predicts test (top three letters per question).

Every option is documented in `config.SolutionConfig`; `--fast` is a quick check from an empty
cache: 2 folds unless `--folds` says otherwise, `fast_train` train questions (160 of the sample's
400), no lm_no_retrieval baseline, one epoch, top 2 passages.
"""
from __future__ import annotations

import time

import numpy as np
import polars as pl

from common.cv import best_variant
from common.ensemble import choose_weight, nested_weight_blend, rank_average
from common.folds import fast_rows
from common.solution import RunContext, SolutionResult

from competitions.science_exam.config import VARIANTS, SolutionConfig
from competitions.science_exam.cv import METRIC, cv_score, map3
from competitions.science_exam.examples_step import SolvedMemory, with_examples
from competitions.science_exam.lm_step import lm_option_scores
from competitions.science_exam.mc_step import finetuned_scores
from competitions.science_exam.questions import Questions, retrieval_quality, to_letters
from competitions.science_exam.retrieval_step import retrieve_contexts


def _config(ctx: RunContext) -> SolutionConfig:
    cfg = SolutionConfig.from_context(ctx)
    if ctx.fast:
        from dataclasses import replace

        cfg = replace(cfg, mc_epochs=1, top_k=min(cfg.top_k, 2), context_words=min(cfg.context_words, 80))
    return cfg


def fast_subset(train: Questions, folds: np.ndarray, keep: int, seed: int) -> tuple[Questions, np.ndarray]:
    """At most `keep` train questions (0 = all) with their folds, as even across folds as the folds
    allow, drawn with the seed and kept in file order: a --fast run's train.

        fast_subset(train, folds, 160, seed=42)    # (160 questions, their 160 fold ids)
    """
    if not keep or keep >= len(train):
        return train, folds
    rows = fast_rows(folds, keep, seed, what="questions")
    return train.subset(rows), folds[rows]


def _solved_examples(cfg: SolutionConfig, train: Questions, test: Questions, folds: np.ndarray,
                     seed: int) -> dict[str, tuple[list[str], list[str] | None]]:
    """{"retrieved": (train, test) contexts, "random": (train, None)}; empty when examples=0."""
    if not cfg.examples:
        return {}
    memory = SolvedMemory.build(cfg, train, folds)
    extra = (f" + {memory.info['memory_extra_rows']} from {cfg.memory} ({memory.info['memory_repeats_dropped']} "
             f"repeating a train question or an earlier row dropped)") if cfg.memory else ""
    print(f"solved-question memory: {len(train)} train questions{extra}; {cfg.examples} retrieved per question, "
          f"never from its own fold")
    return {"retrieved": (memory.retrieved(train, folds), memory.retrieved(test)),
            "random": (memory.random(train, folds, seed), None)}


def _note(cfg: SolutionConfig, variant) -> str:
    parts = []
    if variant.retrieval:
        words = cfg.mc_context_words if variant.kind == "mc" else cfg.context_words
        parts.append(f"top {cfg.top_k} passages, first {words} words" if words else "")
    if variant.examples != "none" and cfg.examples:
        parts.append(f"{cfg.examples} {variant.examples} solved questions")
    if variant.control:
        parts.append("control, not submitted")
    return " + ".join(p for p in parts if p) or "no retrieval"


CONFIG = SolutionConfig   # the options `--set` and experiment files may give

def run(ctx: RunContext) -> SolutionResult:
    started = time.perf_counter()
    cfg = _config(ctx)
    train = Questions.from_frame(ctx.data.tables["train"], "train.csv")
    test = Questions.from_frame(ctx.data.tables["test"], "test.csv")
    if train.labels is None:
        raise ValueError("train.csv has no answer column")   # the schema requires it
    folds = ctx.fold_ids()
    if ctx.fast:
        full = len(train)
        train, folds = fast_subset(train, folds, cfg.fast_train, ctx.seed)
        skipped = "" if cfg.submit == "lm_no_retrieval" else ", lm_no_retrieval skipped"
        print(f"--fast: {len(train)} of {full} train questions (fast_train; seed {ctx.seed}){skipped}: "
              f"a quick check, not comparable with full runs")
    elif "fast_train" in ctx.options:
        print("note: fast_train applies to --fast runs only; this run keeps every train question")
    (train_ctx, test_ctx), info = retrieve_contexts(cfg, ctx.data, [train, test])
    quality = retrieval_quality(train, train_ctx)
    print(f"retrieval quality on train: the right option's text is in the context for "
          f"{quality['answer_in_context']:.1%} of questions, a wrong option's for {quality['distractor_in_context']:.1%}")

    scores: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    lm_info = {}
    examples = _solved_examples(cfg, train, test, folds, ctx.seed)
    for variant in (v for v in VARIANTS if v.kind == "lm" and (cfg.controls or not v.control)):
        if variant.examples == "random" and not examples:
            continue                         # examples=0: nothing to control for
        if ctx.fast and variant.name == "lm_no_retrieval" and cfg.submit != variant.name:
            continue                         # a baseline: a quick check skips it
        passages = (train_ctx, test_ctx) if variant.retrieval else (None, None)
        solved = examples.get(variant.examples, (None, None))
        contexts = [with_examples(p, e) for p, e in zip(passages, solved)]
        oof, lm_info[variant.name] = lm_option_scores(cfg, train, contexts[0], variant.name)
        # baselines are reported, and predict test only when --set submit names them
        predict_test = (variant.retrieval and not variant.control) or variant.name == cfg.submit
        test_scores = lm_option_scores(cfg, test, contexts[1], f"{variant.name} test")[0] if predict_test else None
        scores[variant.name] = (oof, test_scores)
    mc_oof, mc_test, mc_info = finetuned_scores(cfg, train, test, train_ctx, test_ctx, folds, ctx.seed)
    scores["finetuned_mc"] = (mc_oof, mc_test)

    cv = {}
    for variant in (v for v in VARIANTS if v.kind == "ensemble" or v.name in scores):
        if variant.kind == "ensemble":
            first, second = (scores[m] for m in variant.members)
            if cfg.ensemble_weight >= 0:     # fixed: no label chooses it, so every fold stays held-out
                w = cfg.ensemble_weight
                blend = rank_average([first[0], second[0]], [w, 1 - w])
                note = f"weight of {variant.members[0]} {w}"
            else:
                blend, fold_weights = nested_weight_blend(first[0], second[0], train.labels, folds, map3)
                w = choose_weight(first[0], second[0], train.labels, map3)       # for test: all OOF rows
                note = f"weight of {variant.members[0]} per fold {fold_weights}, test {w}"
            scores[variant.name] = (blend, rank_average([first[1], second[1]], [w, 1 - w]))
            cv[variant.name] = cv_score(blend, train.labels, folds, note)
        else:
            cv[variant.name] = cv_score(scores[variant.name][0], train.labels, folds, _note(cfg, variant))

    submittable = [name for name, (_, test_scores) in scores.items() if test_scores is not None]
    best = cfg.submit or best_variant(cv, METRIC, among=submittable)
    submission = pl.DataFrame({"id": test.ids, "prediction": to_letters(scores[best][1])})
    info.update(retrieval_quality=quality, folds=ctx.n_folds, train_questions=len(train), lm=cfg.lm, encoder=cfg.encoder,
                mc_model=cfg.mc_model, lm_cache=lm_info, **mc_info, solution_seconds=round(time.perf_counter() - started, 1))
    return SolutionResult(submission=submission, cv=cv, best=best, info=info,
                          chosen_among=() if cfg.submit else tuple(submittable))
