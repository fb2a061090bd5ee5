"""What `make edge COMP=predict-the-llm` distills: the ensemble's seven-class probabilities on
(question, response) pairs.

    ds = spec(dataset, seed=42, fast=False, options={})    # a common.distill_set.DistillSet

20% of the train questions (all seven responses of each) are held out first; the teacher (the
solution's members and ensemble variants, config.PredictConfig from `options`) is
cross-validated on the other 80% by question. The teacher is the variant with the best CV log
loss there. Soft labels: its out-of-fold probabilities on the 80% and its probabilities on the
unlabeled test pairs; the held-out questions are scored by fold models that never saw them, so
teacher and student are compared on the same unseen questions. Options: the solution's
(members, lm, ...), plus folds (default 5), holdout (fraction of questions, 0.2), head (the
lm_features student's: "gbdt", the default, or "linear") and student
("lm_features", the default: boosted trees per class over the LM's token statistics and text measures,
what the teacher's best member reads; or "classifier": a MiniLM student over the raw pairs).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from common.cv import FoldPlan, best_variant, score_folds
from common.data import Dataset
from common.distill_set import STUDENT_KINDS, DistillSet
from common.errors import UserError
from common.options import config_from_options
from competitions.predict_the_llm import COMPETITION, N_TARGETS
from competitions.predict_the_llm.config import PredictConfig
from competitions.predict_the_llm.inputs import Pairs
from competitions.predict_the_llm.solution import METRIC, fit_variants


def holdout_questions(questions: list[str], fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of train rows whose question is held out (whole questions)."""
    unique = sorted(set(questions))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(unique, size=max(1, round(fraction * len(unique))), replace=False).tolist())
    return np.array([q in held for q in questions])


@dataclass(frozen=True)
class EdgeOptions:
    """The edge spec's own `--set` keys (the rest are PredictConfig's). folds: the teacher's CV
    folds (0: 2 under --fast, else 5) [0]. holdout: share of train questions held out [0.2].
    student: "lm_features" or "classifier" [lm_features]. head: the lm_features student's [gbdt]."""

    folds: int = 0
    holdout: float = 0.2
    student: str = "lm_features"
    head: str = "gbdt"

    def __post_init__(self):
        if self.folds == 1 or self.folds < 0 or not 0 < self.holdout < 1:
            raise UserError(f"folds must be 0 (the default) or at least 2 and 0 < holdout < 1; "
                            f"got folds={self.folds}, holdout={self.holdout}")
        if self.student not in STUDENT_KINDS:
            raise UserError(f"student {self.student!r} is not one of {', '.join(STUDENT_KINDS)}")


def spec(data: Dataset, seed: int = 42, fast: bool = False, options: dict | None = None) -> DistillSet:
    options, own_keys = dict(options or {}), tuple(f.name for f in fields(EdgeOptions))
    own = config_from_options(EdgeOptions, {k: options.pop(k) for k in own_keys if k in options}, "predict-the-llm edge")
    n_folds, fraction, student, head = own.folds or (2 if fast else 5), own.holdout, own.student, own.head
    cfg = config_from_options(PredictConfig, options, "predict-the-llm edge", also_known=own_keys)
    full = Pairs.from_frames(data.tables["train"], data.tables["test"])
    blanks = full.blank_note("left out of the distill set (the device program refuses an empty text)")
    if blanks:
        print(blanks)
        full = full.without_empty_responses()
    held = holdout_questions(full.train_q, fraction, seed)
    fit_rows, held_rows = np.flatnonzero(~held), np.flatnonzero(held)
    pick = lambda values, rows: [values[i] for i in rows]  # noqa: E731
    # the held-out pairs go in front of test: the fold models predict both, and never train on them
    pairs = Pairs(pick(full.train_q, fit_rows), pick(full.train_r, fit_rows), full.y[fit_rows],
                  pick(full.train_q, held_rows) + full.test_q, pick(full.train_r, held_rows) + full.test_r,
                  list(range(len(held_rows) + len(full.test_q))))
    folds = FoldPlan(n_folds, seed, "group").assign(pairs.n_train, groups=pairs.train_q)
    preds, _, _ = fit_variants(pairs, cfg, folds, seed)
    cv = {name: score_folds(METRIC, pairs.y, p.oof, folds) for name, p in preds.items()}
    if cfg.submit and cfg.submit not in preds:     # the assignment variants were skipped
        raise UserError(f"submit: {cfg.submit} did not run for the edge teacher")
    teacher = cfg.submit or best_variant(cv, METRIC)
    other = preds[teacher].test
    inputs = list(zip(pairs.train_q, pairs.train_r)) + list(zip(full.test_q, full.test_r))
    return DistillSet(
        label_names=tuple(f"target_{i}" for i in range(N_TARGETS)),
        submission=(COMPETITION.schema.submission.id_column, *COMPETITION.schema.submission.columns),
        metric=METRIC,
        inputs=inputs,
        soft_labels=np.vstack([preds[teacher].oof, other[len(held_rows):]]),
        holdout_inputs=list(zip(pick(full.train_q, held_rows), pick(full.train_r, held_rows))),
        holdout_labels=full.y[held_rows],
        holdout_teacher=other[: len(held_rows)],
        teacher=f"{teacher} of {'+'.join(cfg.member_names())}, {n_folds}-fold CV by question on {pairs.n_train} train pairs",
        student=student,
        student_options={"model": cfg.lm or "smollm2", "max_response_tokens": cfg.lm_response_tokens, "head": head}
        if student == "lm_features" else {},
        info={"members": cfg.member_names(), "teacher": teacher, "folds": n_folds, "seed": seed,
              "teacher_cv": {k: round(v.mean, 4) for k, v in cv.items()},
              "distill_pairs": {"train_oof": pairs.n_train, "test_unlabeled": len(full.test_q)},
              "holdout_pairs": int(len(held_rows)), "holdout_questions": int(len(set(pick(full.train_q, held_rows)))),
              "data_source": data.source},
    )
