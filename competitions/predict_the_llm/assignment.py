"""ensemble_assigned: when each question was answered exactly once by each target, the best
one-to-one matching of a question's responses to targets, blended with the probabilities.

    ok, why = group_structure(train_q, y, test_q)     # detected from the data, never assumed
    onehot = assign_groups(probs, questions)           # (n, 7) one-hot, one target per response
    blended = blend(probs, onehot, weight=0.4)         # (1 - w) * probs + w * onehot
    w = fit_weight(probs, onehot, y)                    # the grid weight with the lowest log loss
    balanced = balance_groups(probs, questions, power=1.8)   # soft version: each group doubly stochastic
    power = fit_power(candidates, y)                    # the sharpening power with the lowest log loss

The matching maximizes the summed log-probability inside each question group
(scipy.optimize.linear_sum_assignment on -log p): a response the ensemble is unsure about
gets the target the other six left over.

ensemble_balanced is the soft form of the same constraint: inside each complete group the
probabilities, raised to a power (sharpening, fitted out of fold), are scaled alternately by
row and by column until every row and every target column sums to 1 (Sinkhorn balancing, an
approximation to the marginals over all one-to-one matchings). A response's probabilities thus
move towards the targets its six siblings do not claim, without the hard matching's all-or-nothing.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from common.prob_ensemble import log_loss, with_floor
from competitions.predict_the_llm import N_TARGETS

WEIGHT_GRID = tuple(np.round(np.arange(0.0, 0.96, 0.05), 2))
POWER_GRID = tuple(np.round(np.arange(0.5, 3.01, 0.1), 2))
SINKHORN_ITERATIONS = 50


def _groups(questions: list[str]) -> dict[str, list[int]]:
    rows = defaultdict(list)
    for i, q in enumerate(questions):
        rows[q].append(i)
    return rows


def group_structure(train_q: list[str], y: np.ndarray, test_q: list[str], n_classes: int = N_TARGETS) -> tuple[bool, str]:
    """(True, "") when every train question has n_classes responses holding each target once
    and every test question has n_classes responses; else (False, the first reason found)."""
    for q, rows in _groups(train_q).items():
        if sorted(y[rows].tolist()) != list(range(n_classes)):
            return False, (f"train question {q[:40]!r} has {len(rows)} responses with targets "
                           f"{sorted(y[rows].tolist())}, not each of the {n_classes} once")
    for q, rows in _groups(test_q).items():
        if len(rows) != n_classes:
            return False, f"test question {q[:40]!r} has {len(rows)} responses, not {n_classes}"
    return True, ""


def assign_groups(probs: np.ndarray, questions: list[str]) -> np.ndarray:
    """One-hot (n, K): inside each group of K rows, the matching of rows to targets with the
    highest summed log-probability; a group of another size keeps each row's argmax."""
    from scipy.optimize import linear_sum_assignment

    probs = np.asarray(probs, dtype=np.float64)
    k = probs.shape[1]
    out = np.eye(k)[probs.argmax(axis=1)]
    for rows in _groups(questions).values():
        if len(rows) != k:
            continue
        cost = -np.log(np.clip(probs[rows], 1e-15, 1.0))         # (K rows, K targets)
        row_ind, col_ind = linear_sum_assignment(cost)
        out[np.asarray(rows)[row_ind]] = np.eye(k)[col_ind]
    return out


def blend(probs: np.ndarray, onehot: np.ndarray, weight: float, clip: float = 1e-3) -> np.ndarray:
    """(1 - weight) * probs + weight * onehot, floored at `clip` (common.prob_ensemble.with_floor)."""
    return with_floor((1 - weight) * np.asarray(probs) + weight * onehot, clip)


def fit_weight(probs: np.ndarray, onehot: np.ndarray, y: np.ndarray, clip: float = 1e-3) -> float:
    """The weight in WEIGHT_GRID whose blend has the lowest log loss on these rows."""
    return float(min(WEIGHT_GRID, key=lambda w: log_loss(y, blend(probs, onehot, w, clip))))


def balance_groups(probs: np.ndarray, questions: list[str], power: float = 1.0,
                   iterations: int = SINKHORN_ITERATIONS) -> np.ndarray:
    """probs ** power, renormalized; inside each group of K rows, Sinkhorn-balanced so that
    rows and columns each sum to 1. Rows of a group of another size are only renormalized."""
    out = np.clip(np.asarray(probs, dtype=np.float64), 1e-15, 1.0) ** power
    out /= out.sum(axis=1, keepdims=True)
    k = out.shape[1]
    for rows in _groups(questions).values():
        if len(rows) != k:
            continue
        block = out[rows]
        for _ in range(iterations):
            block = block / block.sum(axis=0, keepdims=True)
            block = block / block.sum(axis=1, keepdims=True)
        out[rows] = block
    return out


def balanced_candidates(probs: np.ndarray, questions: list[str], clip: float = 1e-3) -> dict[float, np.ndarray]:
    """{power: floored balance_groups(probs, questions, power)} for every power in POWER_GRID.
    Groups are balanced independently, so one candidate serves any subset of whole groups."""
    return {power: with_floor(balance_groups(probs, questions, power), clip) for power in POWER_GRID}


def fit_power(candidates: dict[float, np.ndarray], y: np.ndarray, rows: np.ndarray | None = None) -> float:
    """The power whose balanced candidate has the lowest log loss on `rows` (default: all)."""
    rows = np.arange(len(y)) if rows is None else rows
    return float(min(candidates, key=lambda p: log_loss(y[rows], candidates[p][rows])))
