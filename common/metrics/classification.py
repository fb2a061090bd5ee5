"""ROC AUC (detect-ai-text) and multi-class log loss (predict-the-llm), as Kaggle computes them.

    roc_auc([0, 1, 1], [0.1, 0.8, 0.4])                       # -> 1.0
    multiclass_logloss([0, 1], [[0.9, 0.1], [0.2, 0.8]])       # -> 0.164...
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from common.errors import RowError, UserError

EPS = 1e-15


def roc_auc(y_true, y_score) -> float:
    """A split with a single class has no AUC: that is an error, not nan."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape:
        raise UserError(f"roc_auc: {y_true.shape[0]} labels but {y_score.shape[0]} scores")
    if not np.isin(y_true, (0, 1)).all():
        odd = [v for v in np.unique(y_true) if not np.isin(v, (0, 1))]
        raise UserError(f"roc_auc: the labels must be 0 or 1, got {', '.join(map(str, odd[:3]))}")
    if len(np.unique(y_true)) < 2:
        raise UserError("roc_auc: the labels hold only one class, AUC is undefined")
    if not np.all(np.isfinite(y_score)):
        raise UserError("roc_auc: scores contain NaN or infinity")
    return float(roc_auc_score(y_true, y_score))


def multiclass_logloss(y_true, y_prob) -> float:
    """Kaggle's multi-class log loss, in the order its evaluation pages give: divide each row by
    its sum, replace each probability p by max(min(p, 1-1e-15), 1e-15), then average
    -log p(true class) over rows. A negative probability or a row summing to 0 is an error."""
    y_true = np.asarray(y_true, dtype=int)
    prob = np.asarray(y_prob, dtype=float)
    if prob.ndim != 2 or prob.shape[0] != y_true.shape[0]:
        raise UserError(f"logloss: expected ({y_true.shape[0]}, n_classes) probabilities, got {prob.shape}")
    if not np.all(np.isfinite(prob)):
        raise UserError("logloss: probabilities contain NaN or infinity")
    if y_true.min() < 0 or y_true.max() >= prob.shape[1]:
        raise UserError(f"logloss: labels must lie in 0..{prob.shape[1] - 1}")
    if (prob < 0).any():
        raise RowError("logloss", int(np.argwhere(prob < 0)[0][0]), "holds a negative probability")
    sums = prob.sum(axis=1, keepdims=True)
    if (sums <= 0).any():
        raise RowError("logloss", int(np.argwhere(sums[:, 0] <= 0)[0][0]), "sums to 0")
    prob = np.clip(prob / sums, EPS, 1 - EPS)
    return float(-np.mean(np.log(prob[np.arange(len(y_true)), y_true])))
