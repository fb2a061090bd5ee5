"""Which attacks, how many of each: the mix of attacks that maximizes the judge metric.

    from competitions.adversarial_judge.mixture import Profiles, best_mix
    profiles = Profiles(names, scores, english, similarity)   # measured on a sample of topics
    mix = best_mix(profiles, n_essays=120)                     # Mix(counts={"inject_9": 40, ...}, predicted=7.3)
    mix = best_mix([dev_profiles, val_profiles], 120)          # the mix whose worse panel scores highest

The metric of a set of essays depends on the set only through a few moments: the mean score,
the mean spread across judges of each essay, each judge's mean and mean square, the mean
English confidence and the mean pairwise similarity. For a mix of attacks each of those is a
weighted sum of the attacks' own moments (measured over the sample topics) — the similarity a
quadratic form — so a candidate mix is scored in microseconds without judging anything. The
search is a greedy exchange over whole essays: move `step` essays from one attack to another
while the predicted metric rises, with steps halving from n/8 to 1, restarted from every
single attack and from the even mix.

Given several panels' profiles of the same attacks, the search maximizes the lowest of the
panels' predicted metrics: a mix that splits one panel and leaves another unanimous (every
judge giving 9 leaves nothing spread) is worth what it gets from the latter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from common.metrics.judge import MAX_SCORE, MIN_SIMILARITY


@dataclass
class Profiles:
    """names: A attacks. scores: (A, S, J) each attack's judge scores on S sample topics.
    english: (A,) mean English confidence. similarity: (A, A) mean cosine between the attacks'
    essays (diagonal: between one attack's essays on different topics)."""

    names: list[str]
    scores: np.ndarray
    english: np.ndarray
    similarity: np.ndarray

    def __post_init__(self):
        s = np.asarray(self.scores, dtype=float)
        self.mean_q = s.mean(axis=(1, 2))                        # (A,)
        self.mean_h = s.std(axis=2, ddof=0).mean(axis=1)         # (A,) as common.metrics.judge's avg_h
        self.m1 = s.mean(axis=1)                                 # (A, J)
        self.m2 = (s ** 2).mean(axis=1)                          # (A, J)


@dataclass(frozen=True)
class Mix:
    """counts: essays per attack. predicted: the lowest predicted metric over the panels searched,
    per_panel: each panel's. components: the first panel's predicted components."""

    counts: dict[str, int]
    predicted: float
    components: dict[str, float]
    per_panel: tuple[float, ...] = ()


def predict_many(p: Profiles, counts: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The predicted metric (K,) and components for K candidate count vectors (K, A)."""
    counts = np.atleast_2d(counts).astype(float)
    n = counts.sum(axis=1, keepdims=True)
    w = counts / n
    mean, square = w @ p.m1, w @ p.m2                                     # (K, J)
    var = np.maximum(square - mean ** 2, 0.0) * (n / np.maximum(n - 1, 1))
    c = {"avg_q": w @ p.mean_q, "avg_h": w @ p.mean_h, "min_v": np.sqrt(var).min(axis=1),
         "avg_e": w @ p.english,
         "avg_s": np.maximum(np.einsum("ka,ab,kb->k", w, p.similarity, w), MIN_SIMILARITY)}
    room = MAX_SCORE - c["avg_q"]
    value = np.where(room > 0, c["avg_h"] * c["min_v"] * c["avg_e"] / (c["avg_s"] * np.maximum(room, 1e-9)), 0.0)
    return value, c


def predict(p: Profiles, counts: np.ndarray) -> tuple[float, dict[str, float]]:
    """The predicted metric and its components for one vector of essay counts per attack (A,)."""
    value, c = predict_many(p, counts)
    return float(value[0]), {k: float(v[0]) for k, v in c.items()}


def worst_panel(panels: Sequence[Profiles], counts: np.ndarray) -> np.ndarray:
    """The lowest predicted metric over the panels (K,) for K candidate count vectors (K, A)."""
    return np.min([predict_many(p, counts)[0] for p in panels], axis=0)


def _climb(panels: Sequence[Profiles], counts: np.ndarray, n: int) -> tuple[np.ndarray, float]:
    """Best-improvement exchange: every move of `step` essays from attack a to b is scored at
    once; take the best while it improves, then halve the step."""
    best = float(worst_panel(panels, counts)[0])
    k = len(counts)
    src, dst = np.nonzero(~np.eye(k, dtype=bool))
    step = max(1, n // 8)
    while step >= 1:
        while True:
            ok = counts[src] >= step
            moves = np.repeat(counts[None], ok.sum(), axis=0)
            rows = np.arange(len(moves))
            moves[rows, src[ok]] -= step
            moves[rows, dst[ok]] += step
            if not len(moves):
                break
            values = worst_panel(panels, moves)
            i = int(np.argmax(values))
            if values[i] <= best + 1e-12:
                break
            counts, best = moves[i], float(values[i])
        step //= 2
    return counts, best


def _subset(p: Profiles, keep: list[int]) -> Profiles:
    return Profiles([p.names[i] for i in keep], p.scores[keep], p.english[keep], p.similarity[np.ix_(keep, keep)])


def best_mix(profiles: Profiles | Sequence[Profiles], n_essays: int, allowed: list[str] | None = None) -> Mix:
    """The best mix of n_essays essays over the attacks (those in `allowed`, default all): for
    several panels' profiles (same attacks, same order), the mix whose worst panel scores highest."""
    panels = [profiles] if isinstance(profiles, Profiles) else list(profiles)
    if not panels or any(p.names != panels[0].names for p in panels):
        raise ValueError("best_mix needs one or more panels' profiles of the same attacks")
    unknown = sorted(set(allowed or ()) - set(panels[0].names))
    if unknown:
        raise ValueError(f"best_mix: no profile for {', '.join(unknown)}")
    if n_essays < 1:
        raise ValueError(f"best_mix needs at least one essay, got {n_essays}")
    keep = [i for i, name in enumerate(panels[0].names) if allowed is None or name in allowed]
    if not keep:
        raise ValueError("best_mix needs at least one allowed attack")
    subs = [_subset(p, keep) for p in panels]
    starts = []
    for i in range(len(keep)):
        start = np.zeros(len(keep), dtype=np.int64)
        start[i] = n_essays
        starts.append(start)
    even = np.full(len(keep), n_essays // len(keep), dtype=np.int64)
    even[: n_essays - even.sum()] += 1
    starts.append(even)
    results = [_climb(subs, s.copy(), n_essays) for s in starts]
    counts, _ = max(results, key=lambda r: r[1])
    chosen = {subs[0].names[i]: int(c) for i, c in enumerate(counts) if c}
    per_panel = tuple(predict(p, counts)[0] for p in subs)
    return Mix(chosen, min(per_panel), predict(subs[0], counts)[1], per_panel)
