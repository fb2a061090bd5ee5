"""Dense retrieval: sentence-encoder embeddings (cached on disk) searched with faiss.

    vectors, cached = embed_passages(texts, encoder="minilm")   # (n, d) float32, unit length
    index = DenseIndex.build(vectors, IndexConfig(kind="flat"))  # exact inner product
    scores, ids = index.search(embed_queries(["what is a leaf"], "minilm"), k=5)
    recall_at_k(approx_ids, exact_ids)                           # overlap with the exact top-k

kinds: "flat" (exact, IndexFlatIP), "ivf" (IndexIVFFlat, inverted lists, nprobe searched),
"ivfpq" (IndexIVFPQ, product-quantized codes: ~32x smaller, approximate), "auto" (flat below
`auto_threshold` vectors, else ivf). Vectors are L2-normalized, so inner product = cosine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.cache_keys import content_key
from common.errors import UserError
from common.retrieval.cache import BlockCache


INDEX_KINDS = ("flat", "ivf", "ivfpq", "auto")


@dataclass(frozen=True)
class IndexConfig:
    """kind: flat | ivf | ivfpq | auto. nlist: inverted lists (None: ~4*sqrt(n)).
    nprobe: lists searched per query. pq_m: sub-quantizers for ivfpq (must divide the dim).
    auto_threshold: vector count from which "auto" picks ivf."""

    kind: str = "auto"
    nlist: int | None = None
    nprobe: int = 16
    pq_m: int = 16
    auto_threshold: int = 200_000
    seed: int = 42

    def __post_init__(self):
        if self.kind not in INDEX_KINDS:
            raise UserError(f"unknown index kind {self.kind!r}; use {', '.join(INDEX_KINDS)}")


def _encode(encoder_name: str, texts, batch_size: int, max_seq_length: int) -> np.ndarray:
    from common.models import shared_sentence_encoder

    model = shared_sentence_encoder(encoder_name)
    # the model is shared in-process: restore its limit, or every later user (the prompt-recovery
    # metric's encoder, say) would read texts cut at this one
    previous, model.max_seq_length = model.max_seq_length, max_seq_length
    try:
        vectors = model.encode(list(texts), batch_size=batch_size, show_progress_bar=False,
                               convert_to_numpy=True, normalize_embeddings=True)
    finally:
        model.max_seq_length = previous
    return vectors.astype(np.float32)


def embedding_key(texts: list[str], encoder_name: str, max_seq_length: int) -> str:
    """Cache key: every text, the encoder's name and weight fingerprint, and the max length."""
    from common.models import model_fingerprint

    return content_key(encoder_name, model_fingerprint(encoder_name, "encoder"), max_seq_length, texts)


def embed_passages(texts: list[str], encoder: str = "minilm", batch_size: int = 64, max_seq_length: int = 128,
                   block_size: int = 2048, show_progress: bool = True) -> tuple[np.ndarray, bool]:
    """(vectors, cache_hit). Embeddings are cached under cache_dir("embeddings"), in blocks, so
    a crash resumes from the last finished block and a second run loads them at once."""
    if not texts:
        raise UserError("nothing to embed: the corpus has no passages")
    cache = BlockCache("embeddings", embedding_key(texts, encoder, max_seq_length))
    hit = cache.complete
    vectors = cache.compute(texts, block_size, lambda block: _encode(encoder, block, batch_size, max_seq_length),
                            desc=f"embed corpus ({encoder})", show_progress=show_progress)
    return vectors, hit


def embed_queries(texts: list[str], encoder: str = "minilm", batch_size: int = 64,
                  max_seq_length: int = 128) -> np.ndarray:
    """Query embeddings (not cached: queries are few and cheap)."""
    return _encode(encoder, texts, batch_size, max_seq_length)


def _training_sample(vectors: np.ndarray, size: int, seed: int) -> np.ndarray:
    """At most `size` rows (k-means of the coarse and PQ quantizers needs ~40 per centroid)."""
    if len(vectors) <= size:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size=size, replace=False))
    return vectors[rows]


class DenseIndex:
    """A faiss index over unit vectors. Build with `DenseIndex.build(vectors, config)`."""

    def __init__(self, index, kind: str, size: int):
        self.index = index
        self.kind = kind
        self.size = size

    @classmethod
    def build(cls, vectors: np.ndarray, config: IndexConfig = IndexConfig()) -> "DenseIndex":
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        kind = config.kind
        if kind == "auto":
            kind = "flat" if n < config.auto_threshold else "ivf"
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        else:                                   # ivf or ivfpq (IndexConfig checked the kind)
            nlist = config.nlist or max(1, int(4 * math.sqrt(n)))
            nlist = min(nlist, max(1, n // 39))  # faiss wants ~39 training points per list
            quantizer = faiss.IndexFlatIP(dim)
            if kind == "ivf":
                index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            else:
                if dim % config.pq_m:
                    raise UserError(f"ivfpq: pq_m={config.pq_m} must divide the embedding size {dim}")
                nbits = 8 if n >= 256 * 39 else 4
                index = faiss.IndexIVFPQ(quantizer, dim, nlist, config.pq_m, nbits, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = config.seed
            index.train(_training_sample(vectors, 64 * nlist, config.seed))
            index.nprobe = min(config.nprobe, nlist)
        index.add(vectors)
        return cls(index, kind, n)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k); ids are -1 where fewer than k were found."""
        k = min(k, self.size)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def brute_force_search(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product with numpy only (the benchmark's baseline)."""
    sims = queries @ vectors.T                           # (q, n)
    k = min(k, vectors.shape[0])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]   # (q, k), unordered
    top_scores = np.take_along_axis(sims, top, axis=1)
    order = np.argsort(-top_scores, axis=1)
    return np.take_along_axis(top_scores, order, axis=1), np.take_along_axis(top, order, axis=1)


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean fraction of each query's exact top-k that the approximate top-k also found."""
    if exact_ids.size == 0:
        return 0.0
    hits = [len(set(a[a >= 0]) & set(e[e >= 0])) / max(1, int((e >= 0).sum())) for a, e in zip(approx_ids, exact_ids)]
    return float(np.mean(hits))
