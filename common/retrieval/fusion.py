"""Reciprocal rank fusion (Cormack et al. 2009): merge ranked lists without calibrating scores.

    fused = reciprocal_rank_fusion([dense_ids, sparse_ids], top_k=5)   # (n_queries, 5)

Each passage scores sum over lists of weight / (rrf_k + rank), rank starting at 1; ids < 0
(padding) are ignored; missing places in the result are -1.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def reciprocal_rank_fusion(rankings: Sequence[np.ndarray], top_k: int, rrf_k: float = 60.0,
                           weights: Sequence[float] | None = None) -> np.ndarray:
    """rankings: arrays of passage ids, each (n_queries, k_i), best first. Ties keep the order
    of first appearance (list 0 first), so the result is deterministic."""
    if not rankings:
        raise ValueError("reciprocal_rank_fusion needs at least one ranking")
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    n_queries = rankings[0].shape[0]
    fused = np.full((n_queries, top_k), -1, dtype=np.int64)
    for q in range(n_queries):
        scores: dict[int, float] = {}
        for ranking, weight in zip(rankings, weights):
            for rank, pid in enumerate(ranking[q], start=1):
                if pid >= 0:
                    scores[int(pid)] = scores.get(int(pid), 0.0) + weight / (rrf_k + rank)
        best = sorted(scores.items(), key=lambda item: -item[1])[:top_k]   # stable: first seen wins ties
        fused[q, :len(best)] = [pid for pid, _ in best]
    return fused
