"""Rank averaging of per-option scores, and picking its weights on held-out rows.

    blended = rank_average([lm_scores, mc_scores], weights=[0.7, 0.3])   # each (n_rows, n_options)
    w = choose_weight(lm_oof, mc_oof, labels, score_fn)   # weight of the first member, on a grid

Ranks make members with different score scales (log-likelihoods, logits) comparable. Within a
row, each member's options get ranks 0..n_options-1 (higher = better, ties averaged), divided by
n_options-1; the blend is the weighted mean of these normalized ranks. A tiny multiple of each
member's z-scored raw score breaks ties in the blend, so equal ranks are ordered by confidence.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy.stats import rankdata

_TIE_BREAK = 1e-3


def row_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks within each row scaled to [0, 1] (1 = best option); ties share the mean rank."""
    scores = np.asarray(scores, dtype=np.float64)
    ranks = rankdata(scores, axis=1, method="average") - 1.0
    return ranks / max(1, scores.shape[1] - 1)


def _row_zscore(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    centered = scores - scores.mean(axis=1, keepdims=True)
    return centered / (scores.std(axis=1, keepdims=True) + 1e-9)


def rank_average(members: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted mean of row ranks (n_rows, n_options); weights default to equal and are normalized."""
    if not members:
        raise ValueError("rank_average needs at least one member")
    weights = np.asarray(weights if weights is not None else [1.0] * len(members), dtype=np.float64)
    if len(weights) != len(members) or weights.sum() <= 0 or (weights < 0).any():
        raise ValueError("weights must be non-negative, one per member, with a positive sum")
    weights = weights / weights.sum()
    blend = sum(w * (row_ranks(m) + _TIE_BREAK * _row_zscore(m)) for w, m in zip(weights, members))
    return blend


def choose_weight(first: np.ndarray, second: np.ndarray, labels: Sequence, score_fn: Callable[[Sequence, np.ndarray], float],
                  grid: Sequence[float] = tuple(np.round(np.linspace(0, 1, 11), 2))) -> float:
    """The weight w of `first` (second gets 1-w) that maximizes score_fn(labels, blend) on these
    rows. Ties go to the weight closest to 0.5, so an uninformative grid stays balanced."""
    best_w, best_score = 0.5, -np.inf
    for w in sorted(grid, key=lambda g: abs(g - 0.5)):
        score = score_fn(labels, rank_average([first, second], [w, 1 - w]))
        if score > best_score + 1e-12:
            best_w, best_score = float(w), score
    return best_w


def nested_weight_blend(first: np.ndarray, second: np.ndarray, labels: np.ndarray, folds: np.ndarray,
                        score_fn: Callable[[Sequence, np.ndarray], float]) -> tuple[np.ndarray, list[float]]:
    """Rank-average blend whose rows in fold k use the weight that scored best on the other
    folds' held-out rows, so fold k's labels never choose its own weight.

        blend, weights = nested_weight_blend(lm_oof, mc_oof, labels, folds, map3)
    """
    blend = np.zeros_like(first, dtype=np.float64)
    weights = []
    for k in np.unique(folds):
        inner = folds != k
        w = choose_weight(first[inner], second[inner], labels[inner], score_fn)
        blend[~inner] = rank_average([first[~inner], second[~inner]], [w, 1 - w])
        weights.append(w)
    return blend, weights


def score_rank_average(score_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Mean over vectors of each one's ranks across rows, scaled to [0, 1] (ties averaged): the
    blend of one-score-per-row members (binary classifiers) on different scales.

        score_rank_average([np.array([0.1, 0.9, 0.5])])   # -> [0.0, 1.0, 0.5]

    Unlike `rank_average`, which ranks the options within each row, this ranks the rows.
    """
    if not len(score_vectors):
        raise ValueError("score_rank_average needs at least one score vector")
    n = len(score_vectors[0])
    return np.mean([(rankdata(s) - 1) / max(n - 1, 1) for s in score_vectors], axis=0)
