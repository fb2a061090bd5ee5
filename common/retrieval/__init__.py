"""Retrieval over a text corpus: chunking, dense (encoder + faiss), sparse (TF-IDF), fusion.

    from common.retrieval import HybridRetriever, RetrievalConfig, load_corpus
    retriever = HybridRetriever.build(load_corpus(path), RetrievalConfig(top_k=3))
    contexts = retriever.contexts(["question + options ..."])
"""
from common.retrieval.chunking import ChunkConfig, chunk_corpus, chunk_text, load_corpus, passage_strings
from common.retrieval.dense import DenseIndex, IndexConfig, brute_force_search, embed_passages, embed_queries, recall_at_k
from common.retrieval.fusion import reciprocal_rank_fusion
from common.retrieval.hybrid import HybridRetriever, RetrievalConfig
from common.retrieval.neighbors import nearest_allowed
from common.retrieval.sparse import SparseConfig, SparseIndex

__all__ = [
    "ChunkConfig", "chunk_corpus", "chunk_text", "load_corpus", "passage_strings",
    "DenseIndex", "IndexConfig", "brute_force_search", "embed_passages", "embed_queries", "recall_at_k",
    "reciprocal_rank_fusion", "HybridRetriever", "RetrievalConfig", "nearest_allowed", "SparseConfig", "SparseIndex",
]
