"""Hybrid retrieval: dense (encoder + faiss) and sparse (TF-IDF) results fused by RRF.

    retriever = HybridRetriever.build(load_corpus(path), RetrievalConfig(encoder="minilm", top_k=3))
    ids = retriever.search(["Which gas do plants take in? carbon dioxide oxygen ..."])  # (1, 3)
    retriever.passages[ids[0][0]]        # "title: text" of the best passage
    retriever.info                       # sizes, index kind, whether embeddings came from cache

mode "hybrid" fuses both; "dense" or "sparse" uses one of them.
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


@dataclass(frozen=True)
class RetrievalConfig:
    """encoder: sentence encoder name (common.models) for dense retrieval. mode: hybrid | dense |
    sparse. top_k: passages returned per query. candidates: how many each retriever proposes
    before fusion. rrf_k: RRF constant. batch_size / max_seq_length: encoder settings."""

    encoder: str = "minilm"
    mode: str = "hybrid"
    top_k: int = 3
    candidates: int = 20
    rrf_k: float = 60.0
    batch_size: int = 64
    max_seq_length: int = 128
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    sparse: SparseConfig = field(default_factory=SparseConfig)
    show_progress: bool = True


class HybridRetriever:
    def __init__(self, config: RetrievalConfig, passages: list[str], dense: DenseIndex | None,
                 sparse: SparseIndex | None, info: dict):
        self.config = config
        self.passages = passages
        self.dense = dense
        self.sparse = sparse
        self.info = info

    @classmethod
    def build(cls, corpus: pl.DataFrame, config: RetrievalConfig = RetrievalConfig()) -> "HybridRetriever":
        if config.mode not in MODES:
            raise UserError(f"unknown retrieval mode {config.mode!r}; use one of {', '.join(MODES)}")
        chunks = chunk_corpus(corpus, config.chunk)
        passages = passage_strings(chunks)
        info = {"documents": len(corpus), "passages": len(passages), "mode": config.mode}
        dense = sparse = None
        if config.mode in ("hybrid", "dense"):
            start = time.perf_counter()
            vectors, hit = embed_passages(passages, config.encoder, config.batch_size, config.max_seq_length,
                                          show_progress=config.show_progress)
            info.update(embeddings_cached=hit, embed_seconds=round(time.perf_counter() - start, 2))
            start = time.perf_counter()
            dense = DenseIndex.build(vectors, config.index)
            info.update(index_kind=dense.kind, index_seconds=round(time.perf_counter() - start, 2))
        if config.mode in ("hybrid", "sparse"):
            start = time.perf_counter()
            sparse = SparseIndex.build(passages, config.sparse)
            info.update(tfidf_seconds=round(time.perf_counter() - start, 2))
        return cls(config, passages, dense, sparse, info)

    def search(self, queries: list[str]) -> np.ndarray:
        """Passage ids, (n_queries, top_k), best first; -1 where fewer were found."""
        rankings = []
        if self.dense is not None:
            vectors = embed_queries(queries, self.config.encoder, self.config.batch_size, self.config.max_seq_length)
            rankings.append(self.dense.search(vectors, self.config.candidates)[1])
        if self.sparse is not None:
            rankings.append(self.sparse.search(queries, self.config.candidates)[1])
        return reciprocal_rank_fusion(rankings, self.config.top_k, self.config.rrf_k)

    def contexts(self, queries: list[str], separator: str = "\n") -> list[str]:
        """The top_k passages of each query joined into one context string."""
        return [separator.join(self.passages[i] for i in row if i >= 0) for row in self.search(queries)]
