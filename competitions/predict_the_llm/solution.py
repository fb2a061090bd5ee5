"""Predict-the-LLM solution: which of 7 LLMs wrote a response; multi-class log loss.

    make submit COMP=predict-the-llm
    python -m cli submit --comp predict-the-llm --set members=tfidf_linear,style_lgbm,encoder_finetuned
    python -m cli submit --comp predict-the-llm --exp lora       # experiments/lora.toml

Every variant is cross-validated on the same group folds (by Question: a question's seven
responses are never split; the competition's CvSpec, `--folds`, the seed):
  tfidf_linear        word + char TF-IDF of the response -> multinomial logistic regression
  style_lgbm          LightGBM on named style features and the local LM's token statistics
  encoder_finetuned   MiniLM fine-tuned on (question, response) pairs     (opt-in: --set members=...)
  lm_lora_classifier  SmolLM2-135M + classification head, LoRA            (opt-in)
  ensemble            members' probabilities pooled (weighted geometric mean), weights and a
                      temperature fitted out of fold, clipped
  ensemble_assigned   + the one-to-one assignment of a question's responses to the 7 targets,
                      when the data has that structure (detected; otherwise skipped, saying why)
  ensemble_balanced   the soft form: each question's 7 x 7 probabilities Sinkhorn-balanced
                      (every target once per question), sharpening power fitted out of fold
The variant with the best CV log loss is submitted. Options: config.PredictConfig.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import polars as pl

from common.confusion import confusion_counts
from common.cv import best_variant, score_folds
from common.errors import UserError
from common.folds import fast_rows
from common.solution import RunContext, SolutionResult
from competitions.predict_the_llm import COMPETITION, TARGET_COLUMNS
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.ensemble_step import Prediction, ensemble_variants
from competitions.predict_the_llm.finetuned import encoder_finetuned, lm_lora_classifier
from competitions.predict_the_llm.inputs import Pairs
from competitions.predict_the_llm.style_member import style_lgbm
from competitions.predict_the_llm.tfidf_member import tfidf_linear

METRIC = COMPETITION.metric
MEMBER_FNS = {"tfidf_linear": tfidf_linear, "style_lgbm": style_lgbm,
              "encoder_finetuned": encoder_finetuned, "lm_lora_classifier": lm_lora_classifier}
CONFIG = PredictConfig   # the options `--set` and experiment files may give


def _member_note(out, folds: np.ndarray) -> str:
    """'3 fold models' when a member trained fewer than the folds, else "" (its seconds are
    recorded apart: a note holds only what the same command on the same data repeats)."""
    k = len(np.unique(out.folds))
    return f"{k} fold models" if k != len(np.unique(folds)) else ""


def fit_variants(pairs: Pairs, cfg: PredictConfig, folds: np.ndarray, seed: int) -> tuple[dict[str, Prediction], str, dict]:
    """(predictions of every member and ensemble variant, why ensemble_assigned was skipped or
    "", seconds per member): held-out rows of train, and pairs.test_* from the fold models."""
    preds: dict[str, Prediction] = {}
    timings = {}
    for name in cfg.member_names():
        t0 = time.perf_counter()
        out = MEMBER_FNS[name](pairs, cfg, folds, seed)
        timings[name] = round(time.perf_counter() - t0, 1)
        preds[name] = Prediction(out.oof, out.test, _member_note(out, folds))
    variants, skipped = ensemble_variants(dict(preds), pairs, folds, cfg)
    if skipped:
        print(f"ensemble_assigned and ensemble_balanced skipped: {skipped}")
    return {**preds, **variants}, skipped, timings


def fast_train(pairs: Pairs, folds: np.ndarray, keep: int, seed: int) -> tuple[Pairs, np.ndarray]:
    """A --fast run's train: `keep` questions with all their responses (0 = all), the folds in turn.

        pairs, folds = fast_train(pairs, folds, 60, seed=42)
    """
    full = len(set(pairs.train_q))
    rows = fast_rows(folds, keep, seed, groups=pairs.train_q, what="questions")
    if len(rows) < pairs.n_train:
        print(f"--fast: {len(set(pairs.train_q[i] for i in rows))} of {full} train questions, {len(rows)} responses "
              f"(fast_train; seed {seed}): a quick check, not comparable with full runs")
    return pairs.with_train_rows(rows), folds[rows]


def config(ctx: RunContext) -> PredictConfig:
    cfg = ctx.config(PredictConfig)
    return replace(cfg, lgbm_rounds=min(cfg.lgbm_rounds, 100), encoder_epochs=1, lora_epochs=1) if ctx.fast else cfg


def run(ctx: RunContext) -> SolutionResult:
    started = time.perf_counter()
    cfg = config(ctx)
    pairs = Pairs.from_frames(ctx.data.tables["train"], ctx.data.tables["test"])
    blanks = pairs.blank_note()
    if blanks:
        print(blanks)
    folds = ctx.fold_ids()
    if ctx.fast:
        pairs, folds = fast_train(pairs, folds, cfg.fast_train, ctx.seed)
    elif "fast_train" in ctx.options:
        print("note: fast_train applies to --fast runs only; this run keeps every train question")
    preds, skipped, timings = fit_variants(pairs, cfg, folds, ctx.seed)

    cv = {name: score_folds(METRIC, pairs.y, p.oof, folds, p.note) for name, p in preds.items()}
    if cfg.submit and cfg.submit not in preds:     # the assignment variants were skipped
        raise UserError(f"submit: {cfg.submit} did not run: {skipped}")
    best = cfg.submit or best_variant(cv, METRIC)
    submission = pl.DataFrame({"id": pairs.test_ids, **dict(zip(TARGET_COLUMNS, preds[best].test.T))})
    info = {"members": cfg.member_names(), "folds": ctx.n_folds, "train_questions": len(set(pairs.train_q)),
            "lm": cfg.lm, "member_seconds": timings,
            "ensemble_assigned": "ran" if "ensemble_assigned" in preds else f"skipped: {skipped}",
            "oof_confusion": confusion_counts(pairs.y, preds[best].oof.argmax(1), len(TARGET_COLUMNS)).tolist(),
            "oof_accuracy": round(float(np.mean(preds[best].oof.argmax(1) == pairs.y)), 4),
            "solution_seconds": round(time.perf_counter() - started, 1)}
    return SolutionResult(submission=submission, cv=cv, best=best, info=info, chosen_among=() if cfg.submit else tuple(cv))
