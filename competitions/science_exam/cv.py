"""Folds, held-out MAP@3 per fold, and the ensemble weight chosen without the scored fold.

    folds = fold_ids(n_rows=400, n_folds=3, seed=42)          # fold index of every train row
    cv_score(oof_scores, labels, folds)                        # CvScore(mean, std, folds)
    blend, weights = nested_ensemble(lm_oof, mc_oof, labels, folds)
"""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold

from common.ensemble import choose_weight, rank_average
from common.metrics import get_metric
from common.solution import CvScore

from competitions.science_exam.questions import OPTIONS, to_letters


def fold_ids(n_rows: int, n_folds: int, seed: int) -> np.ndarray:
    folds = np.zeros(n_rows, dtype=np.int64)
    n_folds = min(n_folds, n_rows)
    for k, (_, held_out) in enumerate(KFold(n_folds, shuffle=True, random_state=seed).split(np.arange(n_rows))):
        folds[held_out] = k
    return folds


def map3(labels: np.ndarray, scores: np.ndarray) -> float:
    return get_metric("map@3").fn([OPTIONS[i] for i in labels], to_letters(scores))


def cv_score(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, note: str = "") -> CvScore:
    """MAP@3 on each fold's rows (scores must be held-out for those rows), mean and std."""
    per_fold = [map3(labels[folds == k], scores[folds == k]) for k in np.unique(folds)]
    return CvScore(float(np.mean(per_fold)), float(np.std(per_fold)), len(per_fold), note)


def nested_ensemble(first: np.ndarray, second: np.ndarray, labels: np.ndarray,
                    folds: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Rank-average blend whose rows in fold k use the weight that scored best on the other
    folds' held-out rows, so fold k's labels never choose its own weight."""
    blend = np.zeros_like(first, dtype=np.float64)
    weights = []
    for k in np.unique(folds):
        inner = folds != k
        w = choose_weight(first[inner], second[inner], labels[inner], map3)
        blend[~inner] = rank_average([first[~inner], second[~inner]], [w, 1 - w])
        weights.append(w)
    return blend, weights
