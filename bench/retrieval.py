"""Retrieval benchmark: faiss (flat, IVF, IVF-PQ) against brute-force numpy, and encoder throughput.

    python -m cli bench retrieval                       # sizes 10000,50000; 200 queries
    python -m cli bench retrieval --sizes 20000,200000 --queries 500 --embed 512 --encoder minilm

Index rows use synthetic unit vectors of the encoder's size (384) clustered around 1000 topics,
so the numbers measure the search at sizes the sample corpus does not reach; recall@10 is each index's overlap with the exact top 10. Embedding
throughput encodes the first --embed passages of the science-exam sample corpus (or random
sentences when it is missing). Also draws the table as a PNG chart (path printed at the end).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from common.errors import UserError

K = 10


def _clustered(rows: int, dim: int, seed: int, n_topics: int = 1000) -> np.ndarray:
    """Unit vectors around n_topics random directions (embeddings cluster by topic; uniform
    random vectors would be a worst case that no inverted index sees in practice)."""
    topics = np.random.default_rng(0).normal(size=(n_topics, dim)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = topics[rng.integers(0, n_topics, rows)] + rng.normal(scale=0.8, size=(rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def index_rows(sizes: list[int], n_queries: int, dim: int = 384) -> list[dict]:
    from common.retrieval import DenseIndex, IndexConfig, brute_force_search, recall_at_k

    rows = []
    queries = _clustered(n_queries, dim, seed=1)
    for size in sizes:
        corpus = _clustered(size, dim, seed=2)
        (_, exact), numpy_s = _timed(lambda: brute_force_search(corpus, queries, K))
        rows.append({"size": size, "method": "numpy brute force", "build_s": 0.0, "qps": n_queries / numpy_s, "recall": 1.0})
        for kind in ("flat", "ivf", "ivfpq"):
            index, build_s = _timed(lambda: DenseIndex.build(corpus, IndexConfig(kind=kind, nprobe=16, pq_m=48)))
            (_, ids), search_s = _timed(lambda: index.search(queries, K))
            rows.append({"size": size, "method": f"faiss {kind}", "build_s": build_s, "qps": n_queries / search_s,
                         "recall": recall_at_k(ids, exact)})
    return rows


def embedding_row(encoder: str, count: int) -> dict:
    from common.models import shared_sentence_encoder
    from common.retrieval import chunk_corpus, load_corpus, passage_strings

    sample = Path(__file__).resolve().parent.parent / "competitions" / "science_exam" / "sample" / "corpus.parquet"
    if sample.is_file():
        texts = passage_strings(chunk_corpus(load_corpus(sample).head(count)))[:count]
    else:
        texts = [f"Sentence number {i} about plants, light and water." for i in range(count)]
    model = shared_sentence_encoder(encoder)
    model.max_seq_length = 128
    model.encode(texts[:16])                                   # warm-up
    _, seconds = _timed(lambda: model.encode(texts, batch_size=64, show_progress_bar=False))
    tokens = sum(len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=128)["input_ids"])
    return {"encoder": encoder, "passages": len(texts), "passages_per_s": len(texts) / seconds,
            "tokens_per_s": tokens / seconds, "seconds": seconds}


def _chart(rows: list[dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from common.charts import save_png
    from common.paths import cache_dir

    fig, ax = plt.subplots(figsize=(7, 4))
    for method in dict.fromkeys(r["method"] for r in rows):
        pts = [r for r in rows if r["method"] == method]
        ax.plot([r["size"] for r in pts], [r["qps"] for r in pts], marker="o", label=method)
    ax.set(xscale="log", yscale="log", xlabel="corpus vectors (384-dim)", ylabel="queries / s",
           title="Dense search throughput (higher is better)")
    ax.legend()
    path = cache_dir("bench") / "retrieval.png"
    return save_png(fig, path, dpi=100, bbox_inches="tight")


def main(args: list[str]) -> int:
    from bench._args import bench_parser

    parser = bench_parser("kllm bench retrieval")
    parser.add_argument("--sizes", default="10000,50000", help="comma-separated corpus sizes")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed", type=int, default=512, help="passages encoded for the throughput row (0: skip)")
    parser.add_argument("--encoder", default="minilm")
    opts = parser.parse_args(args)
    try:
        sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--sizes expects integers like 10000,100000, got {opts.sizes!r}") from None
    if not sizes or min(sizes) < 1000 or opts.queries < 1 or opts.embed < 0:
        raise UserError("--sizes must be at least 1000 each, --queries at least 1 and --embed at least 0")
    if opts.embed:
        from common.models import encoder_path

        encoder_path(opts.encoder)   # an unknown encoder is one line now, not after the index rows
    import torch

    torch.set_num_threads(2)
    rows = index_rows(sizes, opts.queries)
    print(f"dense search, top-{K}, {opts.queries} queries, 384-dim clustered unit vectors (numpy seeds 1: queries, "
          f"2: corpus), nprobe 16, pq 48x8 bits, {torch.get_num_threads()} threads")
    print(f"{'corpus':>8}  {'method':<18} {'build s':>8} {'queries/s':>10} {'recall@10':>9}")
    for r in rows:
        print(f"{r['size']:>8}  {r['method']:<18} {r['build_s']:>8.2f} {r['qps']:>10.0f} {r['recall']:>9.3f}")
    if opts.embed:
        e = embedding_row(opts.encoder, opts.embed)
        print(f"\nembedding throughput: {e['encoder']}, {e['passages']} sample passages (max 128 tokens), batch 64: "
              f"{e['passages_per_s']:.1f} passages/s, {e['tokens_per_s']:.0f} tokens/s")
    print(f"chart: {_chart(rows)}")
    return 0
