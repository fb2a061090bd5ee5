"""Prompt-recovery solution: recover the instruction that turned a text into its rewrite;
sharpened cosine through the metric's sentence encoder.

    make submit COMP=prompt-recovery
    python -m cli submit --comp prompt-recovery --set metric_encoder=sentence-transformers/sentence-t5-base
    python -m cli submit --comp prompt-recovery --exp fewshot      # experiments/fewshot.toml: + lm_fewshot

Variants, each scored under two splits of train: folds over rows (kind cv) and held-out
instructions, group folds by rewrite_prompt (kind holdout, `heldout_instruction/<variant>`):
  constant_baseline  "Improve this text." (`constant`) for every row
  mean_prompt        one string found by a beam search on the training folds' prompts
  nearest_prompt     ridge from the pair's embeddings to the prompt's, then the nearest train prompt
  lm_fewshot         SmolLM2 with retrieved worked examples from other folds      (opt-in: members)
  lm_lora            SmolLM2 LoRA-fine-tuned to write the prompt                    (opt-in: members)
  combined           the best member's prediction joined to the mean prompt, chosen on training folds
The submitted variant is the one with the best held-out-instruction score: Kaggle's hidden
instructions were new. Options: config.RecoveryConfig. Nothing of a held-out fold is seen by
any search, fit or fine-tune of that fold.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from common.cv import best_variant, score_folds
from common.extra_rows import trained_on
from common.errors import UserError
from common.solution import CvScore, RunContext, SolutionResult
from competitions.prompt_recovery import COMPETITION
from competitions.prompt_recovery.combined import Rule, choose_rule
from competitions.prompt_recovery.config import RecoveryConfig
from competitions.prompt_recovery.encoder import MetricEncoder
from competitions.prompt_recovery.extra_train import HINT, bundled_copy, train_with_extra
from competitions.prompt_recovery.inputs import Rewrites
from competitions.prompt_recovery.mean_prompt import MeanPrompt, search_mean_prompt
from competitions.prompt_recovery.members import NearestPrompt
from competitions.prompt_recovery.splits import SplitResult, beam_config, evaluate_split, instruction_folds

METRIC = COMPETITION.metric
HELDOUT = "heldout_instruction/"
CONFIG = RecoveryConfig   # the options `--set` and experiment files may give


def build_members(rw: Rewrites, cfg: RecoveryConfig, enc: MetricEncoder, folds: dict, seed: int) -> list:
    members = []
    for name in cfg.member_names():
        if name == "nearest_prompt":
            members.append(NearestPrompt(rw, cfg, enc))
        elif name == "lm_fewshot":
            from competitions.prompt_recovery.fewshot import FewShot
            members.append(FewShot(rw, cfg, list(folds.values())))
        else:
            from competitions.prompt_recovery.lora_member import LoraPrompt
            members.append(LoraPrompt(rw, cfg, seed))
    return members


def config(ctx: RunContext) -> RecoveryConfig:
    cfg = ctx.config(RecoveryConfig)
    return replace(cfg, beam_steps=min(cfg.beam_steps, 4), lora_epochs=1) if ctx.fast else cfg


def training_rows(ctx: RunContext, cfg: RecoveryConfig) -> tuple[pl.DataFrame, np.ndarray, dict | None]:
    """Train (with extra_train's rows when there are), its row folds, and what extra_train added."""
    train, extra = train_with_extra(ctx.data.tables["train"], cfg.extra_train, ctx.data.path)
    try:
        folds = ctx.competition.cv.fold_ids(train, ctx.n_folds, ctx.seed, ctx.folds_label)
    except UserError as err:
        raise UserError(f"{err}{'' if extra else HINT}") from None
    return train, folds, extra


def check_folds(ctx: RunContext) -> None:
    """`kllm submit`'s check before any work (CvSpec.check): train's and extra_train's rows hold the folds."""
    training_rows(ctx, config(ctx))


def checked_inputs(ctx: RunContext, cfg: RecoveryConfig, train: pl.DataFrame) -> tuple[Rewrites, MetricEncoder]:
    rw = Rewrites.from_frames(train, ctx.data.tables["test"])
    enc = MetricEncoder(cfg.metric_encoder)
    if cfg.max_prompt_tokens >= enc.limit:
        raise UserError(f"max_prompt_tokens={cfg.max_prompt_tokens} must stay below {enc.name}'s limit "
                        f"of {enc.limit} tokens")
    rw.check_prompt_lengths(enc)
    return rw, enc


@dataclass
class Solved:
    """Everything the solution computed: the checked inputs, both splits (each variant's
    held-out prompts, each fold's mean prompt and combined rule), the mean prompt of all train
    (`full`), combined's rule for test, every variant's test prompts, the scores and the
    submitted variant (`best`). The edge spec (edge.py) ports `best` from it."""

    cfg: RecoveryConfig
    rw: Rewrites
    enc: MetricEncoder
    folds: dict[str, np.ndarray]
    splits: dict[str, SplitResult]
    full: MeanPrompt
    rule: Rule
    test: dict[str, list[str]]
    cv: dict[str, CvScore]
    best: str
    seconds: dict[str, float]
    extra: dict | None = None


def solve(ctx: RunContext) -> Solved:
    cfg = config(ctx)
    train, row_folds, extra = training_rows(ctx, cfg)
    if extra:
        print(f"extra_train: {extra['rows']} rewrites from {extra['path']} after train's "
              f"{train.height - extra['rows']}; {extra['repeats_dropped']} repeated (original, rewrite) pairs dropped")
    rw, enc = checked_inputs(ctx, cfg, train)
    folds = {"rows": row_folds, "instructions": instruction_folds(rw.prompts, ctx.n_folds, ctx.seed)}
    members, seconds = build_members(rw, cfg, enc, folds, ctx.seed), {}
    splits = {}
    for label in ("rows", "instructions"):
        t0 = time.perf_counter()
        splits[label] = evaluate_split(rw, cfg, enc, members, folds[label], f"held-out {label}")
        seconds[f"split_{label}"] = round(time.perf_counter() - t0, 1)
    cv = {}
    for label, prefix, kind in (("rows", "", "cv"), ("instructions", HELDOUT, "holdout")):
        split = splits[label]
        for variant, texts in split.oof.items():
            cv[prefix + variant] = score_folds(METRIC, rw.prompts, texts, folds[label], split.notes.get(variant, ""),
                                               kind=kind, score_fn=enc.metric, encoder=cfg.metric_encoder)

    t0 = time.perf_counter()
    full = search_mean_prompt(rw.prompts, enc, beam_config(cfg), desc="mean_prompt all train")
    guesses = {m.name: m.test() for m in members}
    rule = choose_rule(rw.prompts, splits["instructions"].guesses, full.text, enc)
    m = len(rw.test_ids)
    test = {"constant_baseline": [cfg.constant] * m, "mean_prompt": [full.text] * m,
            **{name: g.texts for name, g in guesses.items()}, "combined": rule.apply(guesses, full.text, m)}
    seconds["test"] = round(time.perf_counter() - t0, 1)
    best = cfg.submit or best_variant(cv, METRIC, [HELDOUT + v for v in test]).removeprefix(HELDOUT)
    return Solved(cfg, rw, enc, folds, splits, full, rule, test, cv, best, seconds, extra)


def run(ctx: RunContext) -> SolutionResult:
    started = time.perf_counter()
    s = solve(ctx)
    cfg, rw, full, rule, best = s.cfg, s.rw, s.full, s.rule, s.best
    print(f"mean prompt (all {rw.n_train} train prompts, train score {full.score:.4f}): {full.text!r}")
    why = "--set submit" if cfg.submit else "best held-out-instruction score"
    print(f"combined on test: {rule.describe()}; submitted: {best} ({why})")
    info = {"members": cfg.member_names(), "folds": ctx.n_folds, "metric_encoder": cfg.metric_encoder,
            "mean_prompt": full.text, "mean_prompt_train_score": round(full.score, 5),
            "mean_prompt_folds": {label: {k: f.text for k, f in sp.found.items()} for label, sp in s.splits.items()},
            "combined_rules": {label: {k: r.describe() for k, r in sp.rules.items()} for label, sp in s.splits.items()},
            "combined_test_rule": rule.describe(), "submitted_variant": best,
            "seconds": s.seconds, "solution_seconds": round(time.perf_counter() - started, 1)}
    if s.extra:
        info["extra_train"] = s.extra
        if cfg.extra_train:
            info["model_files"] = [str(bundled_copy(cfg.extra_train))]   # the Kaggle notebook bundle carries it
    submission = pl.DataFrame({"id": rw.test_ids, "rewrite_prompt": s.test[best]})
    return SolutionResult(submission=submission, cv=s.cv, best=HELDOUT + best, info=info,
                          extra_rows=trained_on(s.extra),
                          chosen_among=() if cfg.submit else tuple(HELDOUT + v for v in s.test))
