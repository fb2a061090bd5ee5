"""The compact index the device searches: a hybrid retriever's passages, TF-IDF and dense vectors,
cut to what its search could return for a fixed set of queries, plus a solved-question memory.

    index = CompactIndex.from_retriever(retriever, queries, memory_texts, memory_vectors)
    index.write(folder)        # index.npz, passages.json, vocabulary.json, examples.json
    index.summary()            # {"passages": ..., "of": ..., "dense": ..., "terms": ...}

What is kept (common.retrieval.hybrid): the dense side's passages (in "candidates" scope, the
union of TF-IDF's top `pool` over the queries searched, which the host embedded) with their
embeddings in float16, and every query's TF-IDF top `candidates`; the TF-IDF matrix of those
passages term-major, with the host's idf and stop words, for the terms they hold. For the queries
given, the device's sparse and dense rankings are then the host's (up to float rounding), since
every passage either ranking could return is shipped. The rest of the corpus is cut: for a new
question the device searches only this subset.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.retrieval import HybridRetriever
from common.retrieval.dense import embed_passages


@dataclass
class CompactIndex:
    passages: list[str]
    dense_ids: np.ndarray          # (P,) rows of `passages` the dense side searches
    dense_vectors: np.ndarray      # (P, D) float16
    terms: list[str]
    idf: np.ndarray                # (V,)
    stop_words: list[str]
    tfidf: object                  # scipy CSC (len(passages), V)
    examples: list[str]            # solved questions, "Question: ...\nAnswer: ..."
    memory_vectors: np.ndarray     # (M, D) float16
    corpus_passages: int

    @classmethod
    def from_retriever(cls, retriever: HybridRetriever, queries: list[str], examples: list[str],
                       memory_vectors: np.ndarray) -> "CompactIndex":
        """`retriever` must have searched `queries` already (its dense pool is that search's)."""
        cfg, sparse = retriever.config, retriever.sparse
        sparse_ids = sparse.search(queries, cfg.candidates)[1]                          # (n, candidates)
        dense_pool = np.asarray(retriever.dense_ids, dtype=np.int64)
        keep = np.unique(np.concatenate([dense_pool, sparse_ids[sparse_ids >= 0].ravel()]))
        vectors, _ = embed_passages([retriever.passages[i] for i in dense_pool], cfg.encoder, cfg.batch_size,
                                    cfg.max_seq_length, show_progress=False)
        rows = sparse.matrix[keep]
        columns = np.unique(rows.indices)
        vectorizer = sparse.vectorizer
        return cls(passages=[retriever.passages[i] for i in keep], dense_ids=np.searchsorted(keep, dense_pool),
                   dense_vectors=vectors.astype(np.float16),
                   terms=[str(t) for t in vectorizer.get_feature_names_out()[columns]],
                   idf=vectorizer.idf_[columns].astype(np.float64),
                   stop_words=sorted(vectorizer.get_stop_words() or ()), tfidf=rows[:, columns].tocsc(),
                   examples=list(examples), memory_vectors=np.asarray(memory_vectors, dtype=np.float16),
                   corpus_passages=len(retriever.passages))

    def write(self, folder: Path) -> list[str]:
        folder = Path(folder)
        m = self.tfidf
        np.savez(folder / "index.npz", dense_ids=self.dense_ids.astype(np.int32), dense_vectors=self.dense_vectors,
                 tfidf_indptr=m.indptr.astype(np.int64), tfidf_rows=m.indices.astype(np.int32),
                 tfidf_values=m.data.astype(np.float32), memory_vectors=self.memory_vectors)
        texts = {"passages.json": self.passages, "examples.json": self.examples,
                 "vocabulary.json": {"terms": self.terms, "idf": [float(x) for x in self.idf],
                                     "stop_words": self.stop_words}}
        for name, value in texts.items():
            (folder / name).write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        return ["index.npz", *texts]

    def summary(self) -> dict:
        return {"passages": len(self.passages), "of": self.corpus_passages, "dense": len(self.dense_ids),
                "terms": len(self.terms), "tfidf_nonzeros": int(self.tfidf.nnz), "memory": len(self.examples)}
