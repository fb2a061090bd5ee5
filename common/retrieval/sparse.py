"""Sparse retrieval: TF-IDF (scikit-learn) with sublinear term frequency and unigrams+bigrams.

    index = SparseIndex.build(passages)
    scores, ids = index.search(["which gas do plants absorb"], k=10)   # each (n_queries, k)

Scores are cosine similarities between L2-normalized TF-IDF vectors. Queries are searched in
batches, so memory stays at batch_size x n_passages floats.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from common.vocabulary import capped_vocabulary


@dataclass(frozen=True)
class SparseConfig:
    """ngram_max: longest word n-gram. min_df: drop terms in fewer passages. max_features:
    vocabulary cap (None: no cap). batch_size: queries scored at once."""

    ngram_max: int = 2
    min_df: int = 1
    max_features: int | None = 500_000
    batch_size: int = 256


class SparseIndex:
    def __init__(self, vectorizer, matrix, config: SparseConfig):
        self.vectorizer = vectorizer
        self.matrix = matrix            # (n_passages, vocab), CSR, rows L2-normalized
        self.config = config

    @classmethod
    def build(cls, passages: list[str], config: SparseConfig = SparseConfig()) -> "SparseIndex":
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not passages:
            raise UserError("nothing to index: the corpus has no passages")
        vocabulary = capped_vocabulary(passages, config.max_features, ngram_range=(1, config.ngram_max),
                                       min_df=config.min_df, stop_words="english")
        vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, config.ngram_max), vocabulary=vocabulary,
                                     stop_words="english", dtype=np.float32)
        matrix = vectorizer.fit_transform(passages).tocsr()
        return cls(vectorizer, matrix, config)

    def search(self, queries: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k), best first."""
        k = min(k, self.matrix.shape[0])
        all_scores, all_ids = [], []
        for start in range(0, len(queries), self.config.batch_size):
            q = self.vectorizer.transform(queries[start:start + self.config.batch_size])
            sims = (q @ self.matrix.T).toarray()                      # (b, n)
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            top_scores = np.take_along_axis(sims, top, axis=1)
            order = np.argsort(-top_scores, axis=1, kind="stable")
            all_scores.append(np.take_along_axis(top_scores, order, axis=1))
            all_ids.append(np.take_along_axis(top, order, axis=1))
        if not all_ids:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate(all_scores), np.concatenate(all_ids)
