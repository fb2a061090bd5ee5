"""The judge metric of "LLMs - You Can't Please Them All".

    judge_score(scores, english_confidence, mean_similarity)      # the formula, on a score matrix
    judge_panel_score(topics, essays)                              # a local judge panel scores essays
    # -> PanelScore(value=0.41, components={"avg_q": 4.2, ...}, panel="smollm2:strict_teacher+...#1a2b3c")

Where it comes from: the competition's evaluation page scores a set of essays with a panel of
LLM judges, each giving every essay a score from 0 to 9, and rewards essays that the judges
disagree on (horizontal spread), that each judge spreads out (vertical spread), that are in
English, that differ from each other, and whose mean score is high:

    avg_q = mean of all scores
    avg_h = mean over essays of the standard deviation across judges (ddof=0)
    min_v = minimum over judges of the standard deviation across essays (ddof=1)
    avg_e = mean English-language confidence of the essays
    avg_s = max(mean pairwise similarity between essays, 0.2)

    score = avg_h * min_v * avg_e / (avg_s * (9 - avg_q))

The page does not say which standard deviations; these are the ones that reproduce the public
leaderboard's top score, 29.97415, from 300 essays scored [9, 0, 9] x 99, [0, 9, 9] x 99 and
[9, 9, 0] x 102 (the host's formula as given in Kaggle discussion 563931, comment 3128775: the
population std across a row's judges, the sample std down a judge's column; `test_judge.py`
checks the number). Every judge giving every essay 9 scores 0 (nothing is spread), as there.

`judge_panel_score` is the registry's function for this metric (`needs="panel"`): the judges
are small local LMs (`common.llm.judges`), so its scores are comparable only with scores from
the same panel, which it names.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import UserError

MAX_SCORE = 9
MIN_SIMILARITY = 0.2


def judge_components(scores, english_confidence, mean_similarity: float) -> dict[str, float]:
    scores = np.asarray(scores, dtype=float)  # (n_essays, n_judges)
    english = np.asarray(english_confidence, dtype=float)
    if scores.ndim != 2 or scores.shape[0] < 2 or scores.shape[1] < 2:
        raise UserError(f"judge score: need a (essays >= 2, judges >= 2) score matrix, got {scores.shape}")
    if english.shape != (scores.shape[0],):
        raise UserError(f"judge score: {scores.shape[0]} essays but {english.shape} English confidences")
    if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(english)) and np.isfinite(mean_similarity)):
        raise UserError("judge score: inputs contain NaN or infinity")
    if scores.min() < 0 or scores.max() > MAX_SCORE:
        raise UserError(f"judge score: judge scores must lie in 0..{MAX_SCORE}")
    return {
        "avg_q": float(scores.mean()),
        "avg_h": float(scores.std(axis=1, ddof=0).mean()),
        "min_v": float(scores.std(axis=0, ddof=1).min()),
        "avg_e": float(english.mean()),
        "avg_s": float(max(mean_similarity, MIN_SIMILARITY)),
    }


def score_from_components(c: dict[str, float]) -> float:
    if c["avg_q"] >= MAX_SCORE:   # every score 9: no spread either way, 0 / 0 taken as 0 as on Kaggle
        return 0.0
    return c["avg_h"] * c["min_v"] * c["avg_e"] / (c["avg_s"] * (MAX_SCORE - c["avg_q"]))


def judge_score(scores, english_confidence, mean_similarity: float) -> float:
    return score_from_components(judge_components(scores, english_confidence, mean_similarity))


@dataclass(frozen=True)
class PanelScore:
    """A score given by a judge panel: its value, the five components, and which panel gave it."""

    value: float
    components: dict[str, float]
    panel: str


def judge_panel_score(topics, essays, panel=None, progress: bool = True) -> PanelScore:
    """Judge each essay on its topic with a local panel (default `common.llm.judges.DEFAULT_PANEL`),
    measure English confidence and mean pairwise similarity, and combine them as Kaggle does.
    Judgements are cached on disk; `progress` shows a bar per judge."""
    from common.llm.judges import DEFAULT_PANEL, english_confidence, judge_scores, mean_pairwise_similarity, panel_id

    topics, essays, panel = list(topics), list(essays), tuple(panel or DEFAULT_PANEL)
    scores = judge_scores(topics, essays, panel, progress=progress)  # (n_essays, n_judges)
    components = judge_components(scores, english_confidence(essays), mean_pairwise_similarity(essays))
    return PanelScore(score_from_components(components), components, panel_id(panel))
