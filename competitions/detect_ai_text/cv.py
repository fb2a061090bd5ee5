"""Cross-validation of the teacher members (on the shared folds of common.cv) and their rank average.

    out = cross_validate(members, texts, y, other_texts, folds=5, seed=42)
    out.oof["tfidf_linear"]      # held-out score of every labeled text
    out.other["ensemble"]        # scores of other_texts (test), mean over the fold models
    out.scores["ensemble"]       # CvScore: AUC per fold of the held-out scores, mean ± std

Every fold fits on the other folds and scores its held-out texts together with other_texts, so
test predictions need no extra fit. A costly member may use fewer folds than the rest
(`Member.max_folds`); its held-out scores are still out-of-fold for every text, and its CvScore
is computed over the main folds, with a note saying how many it trained.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from common import cv
from common.ensemble import score_rank_average
from common.solution import CvScore
from competitions.detect_ai_text import COMPETITION

METRIC = COMPETITION.metric


def fold_ids(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number of every row (a UserError when a class is too small)."""
    y = np.asarray(y)
    return cv.FoldPlan(folds, seed, "stratified").assign(len(y), y=y)


@dataclass
class CvOutput:
    folds: np.ndarray                       # main fold id of every labeled text
    oof: dict[str, np.ndarray] = field(default_factory=dict)
    other: dict[str, np.ndarray] = field(default_factory=dict)
    scores: dict[str, CvScore] = field(default_factory=dict)


def _member_cv(member, texts: list[str], y: np.ndarray, other_texts: list[str], ids: np.ndarray, seed: int):
    def fit_predict(fit: np.ndarray, held: np.ndarray, fold: int):
        pred = np.asarray(member.fit_predict([texts[i] for i in fit], y[fit],
                                             [texts[i] for i in held] + other_texts, seed=seed))
        return pred[: len(held)], (pred[len(held):] if other_texts else None)

    out = cv.cross_validate(fit_predict, ids, desc=f"cv {member.name}",
                            test_transform=lambda p: score_rank_average([p]))
    return out.oof, out.test if out.test is not None else np.zeros(0)


def cross_validate(members, texts: list[str], y, other_texts: list[str], folds: int = 5,
                   seed: int = 42) -> CvOutput:
    """Out-of-fold scores for each member and for their rank average ("ensemble")."""
    texts, other_texts, y = list(texts), list(other_texts), np.asarray(y, dtype=int)
    out = CvOutput(folds=fold_ids(y, folds, seed))
    for member in members:
        k = min(folds, member.max_folds)
        ids = out.folds if k == folds else fold_ids(y, k, seed)
        out.oof[member.name], out.other[member.name] = _member_cv(member, texts, y, other_texts, ids, seed)
        note = f"{k} folds" if k != folds else ""
        out.scores[member.name] = cv.score_folds(METRIC, y, out.oof[member.name], out.folds, note)
    names = [m.name for m in members]
    out.oof["ensemble"] = score_rank_average([out.oof[n] for n in names])
    out.other["ensemble"] = score_rank_average([out.other[n] for n in names]) if other_texts else np.zeros(0)
    out.scores["ensemble"] = cv.score_folds(METRIC, y, out.oof["ensemble"], out.folds,
                                            "rank average of " + "+".join(names))
    return out
