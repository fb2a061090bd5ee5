"""Nearest labelled rows for each query, never from the query's own group (its CV fold).

    ids = nearest_allowed(query_vectors, memory_vectors, k=2,
                          query_groups=folds, memory_groups=folds)   # (n_queries, 2), best first
    ids = nearest_allowed(test_vectors, memory_vectors, k=2)         # no groups: every row allowed

Vectors are unit length (as `embed_passages` returns them), so inner product = cosine. A memory
row whose group is -1 (an extra solved-example file, say) is allowed for every query. Exact
search in numpy, in blocks of queries: memories here are thousands to tens of thousands of rows.
"""
from __future__ import annotations

import numpy as np


def nearest_allowed(queries: np.ndarray, memory: np.ndarray, k: int, query_groups: np.ndarray | None = None,
                    memory_groups: np.ndarray | None = None, block: int = 1024) -> np.ndarray:
    """Memory row ids (n_queries, k), most similar first; -1 where fewer than k rows are allowed."""
    if (query_groups is None) != (memory_groups is None):
        raise ValueError("give query_groups and memory_groups together, or neither")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = np.full((len(queries), k), -1, dtype=np.int64)
    if len(memory) == 0:
        return out
    for start in range(0, len(queries), block):
        sims = queries[start:start + block] @ memory.T
        if query_groups is not None:
            own = query_groups[start:start + block, None] == memory_groups[None, :]
            sims = np.where(own & (memory_groups[None, :] >= 0), -np.inf, sims)
        take = min(k, memory.shape[0])
        order = np.argsort(-sims, axis=1, kind="stable")[:, :take]
        allowed = np.isfinite(np.take_along_axis(sims, order, axis=1))
        out[start:start + block, :take] = np.where(allowed, order, -1)
    return out
