"""Probability ensembles for log-loss metrics: member weights on the simplex, temperature
scaling and clipping, each fitted on out-of-fold predictions only.

    ens = ProbEnsemble.fit([tfidf_oof, lgbm_oof], y)    # each (n, K); y class indices; geometric pool
    ens.weights, ens.temperature                         # e.g. [0.31, 0.69], 1.27
    test_probs = ens.apply([tfidf_test, lgbm_test])      # (m, K), rows sum to 1, >= ens.clip

    oof, fitted = fold_fitted(lambda rows: ProbEnsemble.fit([m[rows] for m in members], y[rows]),
                              lambda ens, rows: ens.apply([m[rows] for m in members]), folds)

`fold_fitted` gives rows of fold k the result of what was fitted on the other folds only, so a
score of `oof` is still a held-out score: fold k's labels never chose its own weights.
The blend is the weighted geometric mean of the members' probabilities (log-linear pooling,
renormalized; `pool="arithmetic"` for the weighted mean): a member confident that a class is
wrong can veto it, which an average cannot. The temperature T then divides the blend's
log-probabilities (T > 1 softens over-confident blends) before a softmax, and every probability
is floored at `clip` (a mixture with the uniform distribution): log loss punishes a confident
mistake without bound.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize, minimize_scalar


def log_loss(y: np.ndarray, probs: np.ndarray, eps: float = 1e-15) -> float:
    """Mean -log p(true class), probabilities clipped to [eps, 1]."""
    probs = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0)
    return float(-np.mean(np.log(probs[np.arange(len(y)), np.asarray(y, dtype=int)])))


POOLS = ("geometric", "arithmetic")


def weighted_mean(members: Sequence[np.ndarray], weights: Sequence[float], pool: str = "arithmetic") -> np.ndarray:
    """Rows of probabilities: sum_m w_m * members[m] ("arithmetic"), or prod_m members[m]^w_m
    renormalized ("geometric"); weights are normalized to sum 1."""
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / weights.sum()
    if pool == "arithmetic":
        return sum(w * np.asarray(m, dtype=np.float64) for w, m in zip(weights, members))
    if pool != "geometric":
        raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
    logits = sum(w * np.log(np.clip(np.asarray(m, dtype=np.float64), 1e-15, 1.0)) for w, m in zip(weights, members))
    out = np.exp(logits - logits.max(axis=1, keepdims=True))
    return out / out.sum(axis=1, keepdims=True)


def with_temperature(probs: np.ndarray, temperature: float, clip: float = 0.0) -> np.ndarray:
    """softmax(log(probs) / temperature), each probability at least `clip`, rows summing to 1."""
    logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-15, 1.0)) / temperature
    out = np.exp(logits - logits.max(axis=1, keepdims=True))
    out /= out.sum(axis=1, keepdims=True)
    return with_floor(out, clip)


def with_floor(probs: np.ndarray, floor: float) -> np.ndarray:
    """(1 - K * floor) * probs + floor: every probability at least `floor`, rows still summing
    to 1 (a mixture with the uniform distribution, so the ranking is kept)."""
    probs = np.asarray(probs, dtype=np.float64)
    return (1 - probs.shape[1] * floor) * probs + floor if floor > 0 else probs


def fit_weights(members: Sequence[np.ndarray], y: np.ndarray, pool: str = "geometric") -> np.ndarray:
    """Simplex weights minimizing the log loss of `weighted_mean(members, w, pool)` on these
    rows (softmax-parametrized, L-BFGS from equal weights: deterministic)."""
    if len(members) == 1:
        return np.ones(1)

    def loss(z: np.ndarray) -> float:
        w = np.exp(z - z.max())
        return log_loss(y, weighted_mean(members, w / w.sum(), pool))

    z = minimize(loss, np.zeros(len(members)), method="L-BFGS-B").x
    w = np.exp(z - z.max())
    return w / w.sum()


def fit_temperature(probs: np.ndarray, y: np.ndarray, bounds: tuple[float, float] = (0.2, 5.0)) -> float:
    """The temperature in `bounds` minimizing the log loss of `with_temperature(probs, T)`."""
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    res = minimize_scalar(lambda t: log_loss(y, with_temperature(probs, float(np.exp(t)))),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


@dataclass(frozen=True)
class ProbEnsemble:
    """weights: one per member, summing to 1. pool: "geometric" or "arithmetic".
    temperature: applied to the blend. clip: floor on every output probability."""

    weights: tuple[float, ...]
    temperature: float = 1.0
    clip: float = 1e-3
    pool: str = "geometric"

    @classmethod
    def fit(cls, members: Sequence[np.ndarray], y: np.ndarray, clip: float = 1e-3, pool: str = "geometric",
            calibrate: bool = True) -> "ProbEnsemble":
        """Weights, then the temperature of the weighted blend, both on these rows."""
        weights = fit_weights(members, y, pool)
        temperature = fit_temperature(weighted_mean(members, weights, pool), y) if calibrate else 1.0
        return cls(tuple(round(float(w), 6) for w in weights), round(temperature, 6), clip, pool)

    def apply(self, members: Sequence[np.ndarray]) -> np.ndarray:
        if len(members) != len(self.weights):
            raise ValueError(f"{len(self.weights)} weights but {len(members)} members")
        return with_temperature(weighted_mean(members, self.weights, self.pool), self.temperature, self.clip)


def fold_fitted(fit: Callable[[np.ndarray], object], apply: Callable[[object, np.ndarray], np.ndarray],
                folds: np.ndarray) -> tuple[np.ndarray, list]:
    """(pred, fitted): rows of fold k get apply(fit(rows of the other folds), rows of fold k).
    `fit(rows)` and `apply(fitted, rows)` take row indices; fitted holds one object per fold."""
    folds = np.asarray(folds)
    pred, fitted = None, []
    for k in np.unique(folds):
        inner, held = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        params = fit(inner)
        out = np.asarray(apply(params, held), dtype=np.float64)
        if pred is None:
            pred = np.zeros((len(folds),) + out.shape[1:])
        pred[held] = out
        fitted.append(params)
    return pred, fitted
