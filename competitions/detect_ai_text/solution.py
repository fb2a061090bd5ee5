"""Detect-AI-text solution: a rank-averaged teacher ensemble of TF-IDF linear models, TF-IDF
LightGBM, LM token-likelihood features and a fine-tuned MiniLM, cross-validated on train, plus
a held-out-generator split.

    make submit COMP=detect-ai-text
    python -m cli submit --comp detect-ai-text --set members=tfidf_linear,tfidf_lgbm --fast

Options (`--set key=value`) are the fields of `DetectConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from common.errors import UserError
from common.solution import RunContext, SolutionResult
from competitions.detect_ai_text.cv import cross_validate
from competitions.detect_ai_text.heldout import generator_column, heldout_generator_scores
from competitions.detect_ai_text.members import select_members


@dataclass(frozen=True)
class DetectConfig:
    """members: comma list of teacher members ('' = all; --fast drops minilm_finetuned) ['']
    heldout: also run the held-out-generator split when train names its generators [true]
    Folds: `--folds N`, else 5 (3 under --fast), stratified by `generated` (the competition's CvSpec).
    """

    members: str = ""
    heldout: bool = True


def clean_texts(frame: pl.DataFrame, where: str) -> list[str]:
    """The text column as a list; a missing or empty text is a UserError naming its row."""
    texts = frame["text"].to_list()
    for i, text in enumerate(texts):
        if text is None or not str(text).strip():
            raise UserError(f"{where}: row {i + 1} has an empty text")
    return [str(t) for t in texts]


def labels(frame: pl.DataFrame) -> np.ndarray:
    y = frame["generated"].to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise UserError("train_essays: 'generated' must hold only 0 and 1")
    return y.astype(int)


CONFIG = DetectConfig   # the options `--set` and experiment files may give

def run(ctx: RunContext) -> SolutionResult:
    train, test = ctx.data.tables["train"], ctx.data.tables["test"]
    texts, y = clean_texts(train, "train_essays"), labels(train)
    test_texts = clean_texts(test, "test_essays")
    cfg = ctx.config(DetectConfig)
    members = select_members(cfg.members or None, fast=ctx.fast)
    folds = ctx.n_folds

    out = cross_validate(members, texts, y, test_texts, folds=folds, seed=ctx.seed)
    cv = {**{m.name: out.scores[m.name] for m in members}, "ensemble": out.scores["ensemble"]}

    info = {"members": [m.name for m in members], "folds": folds}
    column = generator_column(train.columns)
    if cfg.heldout and column:
        cheap = [m for m in members if not m.costly]
        cv.update(heldout_generator_scores(cheap, texts, y, train[column].to_list(), seed=ctx.seed))
        info["heldout_generator_members"] = [m.name for m in cheap]
    elif not column:
        info["heldout_generator"] = "skipped: train has no generator/model/source column"

    submission = pl.DataFrame({"id": test["id"], "generated": out.other["ensemble"].astype(float)})
    return SolutionResult(submission=submission, cv=cv, best="ensemble", info=info)
