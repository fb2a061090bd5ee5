"""What `make edge COMP=detect-ai-text` distills: the teacher ensemble's soft labels.

    ds = spec(dataset, seed=42, fast=False, options={})    # a common.distill_set.DistillSet

A stratified 20% of train is held out first; the teacher is cross-validated on the other 80%
only. Soft labels are its out-of-fold scores there (and its scores on the unlabeled test texts),
mapped to probabilities by a logistic fit on those out-of-fold scores; the held-out 20% is scored
by fold models that never saw it, and its scores go through the same logistic fit (monotone, so
the teacher's AUC is that of its raw scores). Teacher and student are compared on that same 20%.
Options (`--set`): EdgeOptions' fields; an unknown one is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from common.data import Dataset
from common.distill_set import DistillSet
from common.errors import UserError
from common.options import config_from_options
from competitions.detect_ai_text import COMPETITION
from competitions.detect_ai_text.cv import cross_validate
from competitions.detect_ai_text.extra_train import with_extra_rows
from competitions.detect_ai_text.members import select_members
from competitions.detect_ai_text.solution import check_classes, clean_texts, labels

LABEL_NAMES = ("human", "ai")


def calibrate(oof_scores: np.ndarray, y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """P(ai) for `scores` from a one-feature logistic fit of y on the out-of-fold scores."""
    fit = LogisticRegression(C=10.0).fit(oof_scores.reshape(-1, 1), y)
    return fit.predict_proba(np.asarray(scores).reshape(-1, 1))[:, 1]


@dataclass(frozen=True)
class EdgeOptions:
    """members: comma list of teacher members ('' = all; fast keeps the two TF-IDF members) [''].
    folds: the teacher's CV folds on the fit part [3]. holdout: share of train held out [0.2].
    extra_train: more labeled essays, as for `make submit` ('' = train_extra.csv/.parquet beside
    the data when there) [''] (competitions/detect_ai_text/extra_train.py)."""

    members: str = ""
    folds: int = 3
    holdout: float = 0.2
    extra_train: str = ""

    def __post_init__(self):
        if self.folds < 2 or not 0 < self.holdout < 1:
            raise UserError(f"folds must be at least 2 and 0 < holdout < 1; got folds={self.folds}, holdout={self.holdout}")


CONFIG = EdgeOptions   # the options spec() reads (kllm edge --exp checks an experiment file's against them)


def spec(data: Dataset, seed: int = 42, fast: bool = False, options: dict | None = None) -> DistillSet:
    opts = config_from_options(EdgeOptions, options or {}, where="detect-ai-text edge")
    train = data.tables["train"]
    texts, y = clean_texts(train, "train_essays"), labels(train)
    texts, y, added = with_extra_rows(texts, y, opts.extra_train, data.path)
    check_classes(y, opts.folds, added is not None, label=f"folds={opts.folds}")
    test_texts = clean_texts(data.tables["test"], "test_essays") if "test" in data.tables else []
    members = select_members(opts.members or None, fast=fast)
    folds = opts.folds
    fit_idx, hold_idx = train_test_split(np.arange(len(texts)), test_size=opts.holdout,
                                         stratify=y, random_state=seed)
    fit_texts, hold_texts = [texts[i] for i in fit_idx], [texts[i] for i in hold_idx]
    check_classes(y[fit_idx], folds, added is not None, f"the teacher's {1 - opts.holdout:.0%} of train",
                  f"folds={folds}")
    out = cross_validate(members, fit_texts, y[fit_idx], hold_texts + test_texts, folds=folds, seed=seed)
    oof, other = out.oof["ensemble"], out.other["ensemble"]
    prob_fit = calibrate(oof, y[fit_idx], oof)
    prob_test = calibrate(oof, y[fit_idx], other[len(hold_texts):])
    prob_hold = calibrate(oof, y[fit_idx], other[: len(hold_texts)])
    prob = np.concatenate([prob_fit, prob_test])
    names = "+".join(m.name for m in members)
    return DistillSet(
        label_names=LABEL_NAMES,
        metric=COMPETITION.metric,
        positive_label="ai",
        inputs=fit_texts + test_texts,
        soft_labels=np.stack([1 - prob, prob], axis=1),
        holdout_inputs=hold_texts,
        holdout_labels=y[hold_idx],
        holdout_teacher=np.stack([1 - prob_hold, prob_hold], axis=1),
        submission=(COMPETITION.schema.submission.id_column, *COMPETITION.schema.submission.columns),
        teacher=f"rank average of {names}, {folds}-fold CV on {len(fit_texts)} train texts",
        info={"members": [m.name for m in members], "folds": folds, "seed": seed,
              "teacher_cv": {k: round(v.mean, 4) for k, v in out.scores.items()},
              "distill_texts": {"train_oof": len(fit_texts), "test_unlabeled": len(test_texts)},
              "holdout_texts": len(hold_texts), "data_source": data.source,
              "extra_train": added["path"] if added else None},
    )
