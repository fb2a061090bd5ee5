"""MAP@3 of per-option scores, and its cross-validated form over the shared folds.

    folds = FoldPlan(n_folds=3, seed=42).assign(len(train))   # common.cv
    cv_score(oof_scores, labels, folds)                        # CvScore(mean, std, folds)
"""
from __future__ import annotations

import numpy as np

from common.cv import score_folds
from common.metrics import get_metric
from common.solution import CvScore

from competitions.science_exam import COMPETITION
from competitions.science_exam.questions import OPTIONS, to_letters

METRIC = COMPETITION.metric


def map3(labels: np.ndarray, scores: np.ndarray) -> float:
    """MAP@3 of (n, 5) option scores against answer indices."""
    return get_metric(METRIC).fn([OPTIONS[i] for i in labels], to_letters(scores))


def cv_score(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, note: str = "") -> CvScore:
    """MAP@3 on each fold's rows (scores must be held-out for those rows), mean and std."""
    return score_folds(METRIC, labels, scores, folds, note, score_fn=map3)
