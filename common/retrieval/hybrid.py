"""Hybrid retrieval: dense (encoder + faiss) and sparse (TF-IDF) results fused by RRF.

    retriever = HybridRetriever.build(load_corpus(path), RetrievalConfig(encoder="minilm", top_k=3))
    ids = retriever.search(["Which gas do plants take in? carbon dioxide oxygen ..."])  # (1, 3)
    retriever.passages[ids[0][0]]        # "title: text" of the best passage
    retriever.info                       # sizes, index kind, whether embeddings came from cache

mode "hybrid" fuses both; "dense" or "sparse" uses one of them.
dense_scope says what the dense side embeds:
  "corpus"     every passage, once (cached on disk); the faiss index covers the whole corpus.
  "candidates" only the passages TF-IDF proposes for the queries of this search (its top
               `pool` per query); a CPU-sized way to use a large corpus: TF-IDF narrows it,
               the encoder re-ranks the pool, and RRF fuses both rankings.
  "auto"       corpus up to `corpus_limit` passages, candidates above.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from common.errors import UserError
from common.retrieval.chunking import ChunkConfig, chunk_corpus, passage_strings
from common.retrieval.dense import DenseIndex, IndexConfig, embed_passages, embed_queries
from common.retrieval.fusion import reciprocal_rank_fusion
from common.retrieval.sparse import SparseConfig, SparseIndex

MODES = ("hybrid", "dense", "sparse")
SCOPES = ("auto", "corpus", "candidates")


@dataclass(frozen=True)
class RetrievalConfig:
    """encoder: sentence encoder name (common.models) for dense retrieval. mode: hybrid | dense |
    sparse. top_k: passages returned per query. candidates: how many each retriever proposes
    before fusion. rrf_k: RRF constant. dense_scope / pool / corpus_limit: see the module doc.
    batch_size / max_seq_length: encoder settings."""

    encoder: str = "minilm"
    mode: str = "hybrid"
    top_k: int = 3
    candidates: int = 20
    rrf_k: float = 60.0
    dense_scope: str = "auto"
    pool: int = 30
    corpus_limit: int = 20_000
    batch_size: int = 64
    max_seq_length: int = 128
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    sparse: SparseConfig = field(default_factory=SparseConfig)
    show_progress: bool = True

    def __post_init__(self):
        if self.mode not in MODES:
            raise UserError(f"unknown retrieval mode {self.mode!r}; use one of {', '.join(MODES)}")
        if self.dense_scope not in SCOPES:
            raise UserError(f"unknown dense scope {self.dense_scope!r}; use one of {', '.join(SCOPES)}")


class HybridRetriever:
    def __init__(self, config: RetrievalConfig, passages: list[str], sparse: SparseIndex | None, info: dict):
        self.config = config
        self.passages = passages
        self.sparse = sparse
        self.info = info
        self.dense: DenseIndex | None = None
        self.dense_ids: np.ndarray | None = None     # row of the dense index -> passage id

    @classmethod
    def build(cls, corpus: pl.DataFrame, config: RetrievalConfig = RetrievalConfig()) -> "HybridRetriever":
        passages = passage_strings(chunk_corpus(corpus, config.chunk))
        scope = config.dense_scope
        if scope == "auto":
            scope = "corpus" if len(passages) <= config.corpus_limit else "candidates"
        info = {"documents": len(corpus), "passages": len(passages), "mode": config.mode}
        sparse = None
        if config.mode in ("hybrid", "sparse") or (config.mode == "dense" and scope == "candidates"):
            start = time.perf_counter()
            sparse = SparseIndex.build(passages, config.sparse)
            info["tfidf_seconds"] = round(time.perf_counter() - start, 2)
        retriever = cls(config, passages, sparse, info)
        if config.mode != "sparse":
            info["dense_scope"] = scope
            if scope == "corpus":
                retriever._build_dense(np.arange(len(passages)))
        return retriever

    def _build_dense(self, ids: np.ndarray) -> None:
        start = time.perf_counter()
        vectors, hit = embed_passages([self.passages[i] for i in ids], self.config.encoder, self.config.batch_size,
                                      self.config.max_seq_length, show_progress=self.config.show_progress)
        embed_s = time.perf_counter() - start
        self.dense = DenseIndex.build(vectors, self.config.index)
        self.dense_ids = ids
        self.info.update(embedded_passages=len(ids), embeddings_cached=hit, embed_seconds=round(embed_s, 2),
                         index_kind=self.dense.kind, index_seconds=round(time.perf_counter() - start - embed_s, 2))

    def search(self, queries: list[str]) -> np.ndarray:
        """Passage ids, (n_queries, top_k), best first; -1 where fewer were found."""
        rankings = []
        sparse_ids = None
        if self.sparse is not None:
            depth = max(self.config.candidates, self.config.pool if self.info.get("dense_scope") == "candidates" else 0)
            sparse_ids = self.sparse.search(queries, depth)[1]
            if self.config.mode != "dense":
                rankings.append(sparse_ids[:, :self.config.candidates])
        if self.config.mode != "sparse":
            if self.info["dense_scope"] == "candidates":
                self._build_dense(np.unique(sparse_ids[:, :self.config.pool]))
            vectors = embed_queries(queries, self.config.encoder, self.config.batch_size, self.config.max_seq_length)
            rows = self.dense.search(vectors, self.config.candidates)[1]
            rankings.insert(0, np.where(rows >= 0, self.dense_ids[np.maximum(rows, 0)], -1))
        return reciprocal_rank_fusion(rankings, self.config.top_k, self.config.rrf_k)

    def contexts(self, queries: list[str], separator: str = "\n") -> list[str]:
        """The top_k passages of each query joined into one context string."""
        return [separator.join(self.passages[i] for i in row if i >= 0) for row in self.search(queries)]
