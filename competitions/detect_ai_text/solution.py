"""Detect-AI-text solution: a rank-averaged teacher ensemble of TF-IDF linear models, TF-IDF
LightGBM, LM token-likelihood features and a fine-tuned MiniLM, cross-validated on train, plus
a held-out-generator split.

    make submit COMP=detect-ai-text
    python -m cli submit --comp detect-ai-text --set members=tfidf_linear,tfidf_lgbm --fast

Options (`--set key=value`) are the fields of `DetectConfig`.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import polars as pl

from common.extra_rows import trained_on
from common.errors import UserError
from common.solution import RunContext, SolutionResult
from competitions.detect_ai_text.cv import cross_validate
from competitions.detect_ai_text.extra_train import bundled_copy, with_extra_rows
from competitions.detect_ai_text.heldout import generator_column, heldout_generator_scores, heldout_prompt_scores
from competitions.detect_ai_text.members import select_members


@dataclass(frozen=True)
class DetectConfig:
    """members: comma list of teacher members ('' = all; --fast drops minilm_finetuned and lm_perplexity) ['']
    heldout: also run the held-out-generator split when train names its generators, and the
        held-out-prompt split (folds of whole prompts) when it has prompt ids, with the members
        that are not costly [true]
    extra_train: a CSV/Parquet of more labeled essays (text, generated or label) appended to train
        ('' = train_extra.csv or .parquet beside the data files when there, else none) ['']
    submit: the variant whose test scores are written ('' = ensemble, always the submission),
        e.g. to score each member on a sample's hidden labels ['']
    Folds: `--folds N`, else 5 (3 under --fast), stratified by `generated` (the competition's CvSpec).
    """

    members: str = ""
    heldout: bool = True
    extra_train: str = ""
    submit: str = ""

    def __post_init__(self):
        variants = [m.name for m in select_members(self.members or None)] + ["ensemble"]   # unknown or none: refused
        if self.submit and self.submit not in variants:
            raise UserError(f"submit: no variant {self.submit!r} in this run; variants: {', '.join(variants)}")


def clean_texts(frame: pl.DataFrame, where: str) -> list[str]:
    """The text column as a list; a missing or empty text is a UserError naming its row."""
    texts = frame["text"].to_list()
    for i, text in enumerate(texts):
        if text is None or not str(text).strip():
            raise UserError(f"{where}: row {i + 1} has an empty text")
    return [str(t) for t in texts]


def labels(frame: pl.DataFrame) -> np.ndarray:
    """train_essays.csv's `generated` column as 0/1 ints; a blank or other value is a UserError naming its row."""
    y = frame["generated"].to_list()
    bad = next((i for i, v in enumerate(y) if v not in (0, 1)), None)
    if bad is not None:
        value = "blank" if y[bad] is None else repr(y[bad])
        raise UserError(f"train_essays.csv: row {bad + 1} has generated {value}: it must hold only 0 and 1")
    return np.asarray(y, dtype=int)


EXTRA_HINT = ("; add labeled essays with --set extra_train=FILE (columns text and generated or label, e.g. a DAIGT "
              "dataset) or a train_extra.csv beside the data")


def check_classes(y: np.ndarray, folds: int, extra: bool, rows: str = "train", label: str = "") -> None:
    """Stratified folds need `folds` texts of each class; say how to get them when train lacks them.
    `label` names the fold count in the refusal (default "--folds N")."""
    generated = int(y.sum())
    if min(generated, len(y) - generated) < folds:
        hint = "" if extra else EXTRA_HINT
        raise UserError(f"{label or f'--folds {folds}'}: {rows} has {generated} generated and {len(y) - generated} human essays, "
                        f"and stratified folds need at least {folds} of each{hint}")


def warn_few_per_fold(y: np.ndarray, folds: int, extra: bool) -> None:
    """A warning when a class has under 2 essays a fold (the real train: 3 generated essays), so
    each fold's AUC rests on one or two essays and the CV is mostly noise."""
    generated = int(y.sum())
    fewest, which = min((generated, "generated"), (len(y) - generated, "human"))
    if fewest < 2 * folds:
        hint = "" if extra else EXTRA_HINT
        low, high = fewest // folds, -(-fewest // folds)
        each = f"{low}" if low == high else f"{low}-{high}"
        print(f"warning: {fewest} {which} essays for {folds} folds: each fold's AUC rests on "
              f"{each} of them, so the CV below is mostly noise{hint}", file=sys.stderr)


def training_rows(ctx: RunContext, cfg: DetectConfig, texts: list[str], y: np.ndarray, info: dict):
    """(texts, labels) to fit and cross-validate on: train's, then extra_train's when there is one."""
    texts, y, added = with_extra_rows(texts, y, cfg.extra_train, ctx.data.path)
    if added is not None:
        info["extra_train"] = {**added, "note": "cross-validated on train and these rows together"}
        if cfg.extra_train:
            info["model_files"] = [str(bundled_copy(cfg.extra_train))]   # the Kaggle notebook bundle carries it
    check_classes(y, ctx.n_folds, added is not None, label=ctx.folds_label)
    return texts, y


def check_folds(ctx: RunContext) -> None:
    """`kllm submit`'s check before any work (CvSpec.check): train's and extra_train's rows hold the folds."""
    training_rows(ctx, ctx.config(DetectConfig), clean_texts(ctx.data.tables["train"], "train_essays"),
                  labels(ctx.data.tables["train"]), {})


CONFIG = DetectConfig   # the options `--set` and experiment files may give

def run(ctx: RunContext) -> SolutionResult:
    train, test = ctx.data.tables["train"], ctx.data.tables["test"]
    texts, y = clean_texts(train, "train_essays"), labels(train)
    test_texts = clean_texts(test, "test_essays")
    cfg = ctx.config(DetectConfig)
    members = select_members(cfg.members or None, fast=ctx.fast)
    best = cfg.submit or "ensemble"
    if best not in [m.name for m in members] + ["ensemble"]:     # a member --fast leaves out: before any work
        raise UserError(f"submit: {best} did not run (--fast runs {', '.join(m.name for m in members)})")
    folds = ctx.n_folds
    info: dict = {"members": [m.name for m in members], "folds": folds}
    fit_texts, fit_y = training_rows(ctx, cfg, texts, y, info)
    if "extra_train" in info:
        extra = info["extra_train"]
        print(f"extra_train: {extra['rows']} labeled essays ({extra['generated']} generated) from {extra['path']}, "
              f"trained and cross-validated with train's {len(texts)}; {extra['repeats_dropped']} repeated texts dropped")
    warn_few_per_fold(fit_y, folds, "extra_train" in info)

    out = cross_validate(members, fit_texts, fit_y, test_texts, folds=folds, seed=ctx.seed)
    cv = {**{m.name: out.scores[m.name] for m in members}, "ensemble": out.scores["ensemble"]}

    column = generator_column(train.columns)
    if cfg.heldout and column:
        cheap = [m for m in members if not m.costly]
        cv.update(heldout_generator_scores(cheap, texts, y, train[column].to_list(), seed=ctx.seed))
        info["heldout_generator_members"] = [m.name for m in cheap]
    elif not column:
        info["heldout_generator"] = "skipped: train has no generator/model/source column"
    if cfg.heldout and "prompt_id" in train.columns:
        cheap = [m for m in members if not m.costly]
        prompt_scores = heldout_prompt_scores(cheap, texts, y, train["prompt_id"].to_list(), folds=folds, seed=ctx.seed)
        cv.update(prompt_scores)
        if not prompt_scores:
            info["heldout_prompt"] = "skipped: train has fewer than 2 prompts, or too few essays of a class for them"

    submission = pl.DataFrame({"id": test["id"], "generated": out.other[best].astype(float)})
    return SolutionResult(submission=submission, cv=cv, best=best, info=info,
                          extra_rows=trained_on(info.get("extra_train")))
