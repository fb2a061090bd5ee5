"""Cross-validation of the teacher members and their rank average.

    out = cross_validate(members, texts, y, other_texts, folds=5, seed=42)
    out.oof["tfidf_linear"]      # held-out score of every labeled text
    out.other["ensemble"]        # scores of other_texts (test), mean over the fold models
    out.scores["ensemble"]       # CvScore: AUC per fold of the held-out scores, mean ± std

Every fold fits on the other folds and scores its held-out texts together with other_texts, so
test predictions need no extra fit. A costly member may use fewer folds than the rest
(`Member.max_folds`); its held-out scores are still out-of-fold for every text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

from common.errors import UserError
from common.metrics import get_metric
from common.solution import CvScore


def rank_average(score_lists: list[np.ndarray]) -> np.ndarray:
    """Mean of each score vector's ranks scaled to [0, 1] (common.ensemble is not there yet)."""
    if not score_lists:
        raise UserError("rank_average needs at least one score vector")
    n = len(score_lists[0])
    return np.mean([(rankdata(s) - 1) / max(n - 1, 1) for s in score_lists], axis=0)


def fold_ids(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number of every row."""
    y = np.asarray(y)
    smallest = int(np.bincount(y).min()) if len(np.unique(y)) == 2 else 0
    if smallest < folds:
        raise UserError(f"{folds} folds need at least {folds} texts of each class; the smallest class has {smallest}")
    ids = np.zeros(len(y), dtype=int)
    for k, (_, held) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        ids[held] = k
    return ids


@dataclass
class CvOutput:
    folds: np.ndarray                       # main fold id of every labeled text
    oof: dict[str, np.ndarray] = field(default_factory=dict)
    other: dict[str, np.ndarray] = field(default_factory=dict)
    scores: dict[str, CvScore] = field(default_factory=dict)


def auc_by_fold(y: np.ndarray, scores: np.ndarray, folds: np.ndarray, note: str = "") -> CvScore:
    auc = get_metric("roc_auc").fn
    per_fold = [auc(y[folds == k], scores[folds == k]) for k in np.unique(folds)]
    return CvScore(float(np.mean(per_fold)), float(np.std(per_fold)), len(per_fold), note)


def cross_validate(members, texts: list[str], y, other_texts: list[str], folds: int = 5,
                   seed: int = 42) -> CvOutput:
    """Out-of-fold scores for each member and for their rank average ("ensemble")."""
    texts, other_texts, y = list(texts), list(other_texts), np.asarray(y, dtype=int)
    out = CvOutput(folds=fold_ids(y, folds, seed))
    for member in members:
        k = min(folds, member.max_folds)
        ids = out.folds if k == folds else fold_ids(y, k, seed)
        oof, other = np.zeros(len(y)), np.zeros(len(other_texts))
        for fold in tqdm(range(k), desc=f"cv {member.name}", unit="fold"):
            fit, held = np.flatnonzero(ids != fold), np.flatnonzero(ids == fold)
            pred = member.fit_predict([texts[i] for i in fit], y[fit],
                                      [texts[i] for i in held] + other_texts, seed=seed)
            oof[held] = pred[: len(held)]
            other += rank_average([pred[len(held):]])[: len(other_texts)] / k if other_texts else 0
        out.oof[member.name], out.other[member.name] = oof, other
        note = f"{k} folds" if k != folds else ""
        out.scores[member.name] = auc_by_fold(y, oof, out.folds, note)
    names = [m.name for m in members]
    out.oof["ensemble"] = rank_average([out.oof[n] for n in names])
    out.other["ensemble"] = rank_average([out.other[n] for n in names]) if other_texts else np.zeros(0)
    out.scores["ensemble"] = auc_by_fold(y, out.oof["ensemble"], out.folds, "rank average of " + "+".join(names))
    return out
