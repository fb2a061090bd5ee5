"""Retrieve the context of every question from the corpus (hybrid dense + TF-IDF by default).

    contexts, info = retrieve_contexts(cfg, data, [train_questions, test_questions])
    contexts, info, retriever = search_contexts(cfg, data, [...])   # and the searched retriever
    contexts[0][i]     # the passages retrieved for train question i, joined by newlines
    info               # corpus path, passage count, index kind, embeddings_cached, seconds
"""
from __future__ import annotations

import time
from pathlib import Path

from common.data import Dataset
from common.errors import UserError
from common.retrieval import ChunkConfig, HybridRetriever, IndexConfig, RetrievalConfig, load_corpus

from competitions.science_exam import CORPUS_FILE
from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.questions import Questions, truncate_words

SAMPLE_CORPUS = Path(__file__).parent / "sample" / CORPUS_FILE


def corpus_path(cfg: SolutionConfig, data: Dataset) -> Path:
    """--set corpus=PATH, else corpus.parquet beside the data files, else the sample's corpus."""
    if cfg.corpus:
        return Path(cfg.corpus).expanduser()
    beside = Path(data.path) / CORPUS_FILE
    if beside.is_file():
        return beside
    if SAMPLE_CORPUS.is_file():
        return SAMPLE_CORPUS
    raise UserError("no retrieval corpus: pass --set corpus=PATH (a .parquet/.txt file or a folder of them)")


def corpus_label(path: Path, data: Dataset) -> str:
    """The corpus file's name, or a warning when other data falls back on the sample's corpus."""
    if path == SAMPLE_CORPUS and Path(data.path).resolve() != SAMPLE_CORPUS.parent.resolve():
        return "the sample's corpus (--set corpus=PATH, or a corpus.parquet beside the data, for another)"
    return path.name


def retrieval_config(cfg: SolutionConfig) -> RetrievalConfig:
    return RetrievalConfig(encoder=cfg.encoder, mode=cfg.retrieval, top_k=cfg.top_k, candidates=cfg.candidates,
                           dense_scope=cfg.dense_scope, pool=cfg.pool,
                           chunk=ChunkConfig(max_words=cfg.chunk_words, overlap_words=min(15, cfg.chunk_words // 4)),
                           index=IndexConfig(kind=cfg.index))


def retrieve_contexts(cfg: SolutionConfig, data: Dataset, question_sets: list[Questions]) -> tuple[list[list[str]], dict]:
    contexts, info, _ = search_contexts(cfg, data, question_sets)
    return contexts, info


def search_contexts(cfg: SolutionConfig, data: Dataset, question_sets: list[Questions]
                    ) -> tuple[list[list[str]], dict, HybridRetriever]:
    """retrieve_contexts, and the retriever after its search (the edge port ships its index)."""
    path = corpus_path(cfg, data)
    started = time.perf_counter()
    retriever = HybridRetriever.build(load_corpus(path), retrieval_config(cfg))
    queries = [q for qs in question_sets for q in qs.queries()]
    joined = retriever.contexts(queries)            # one search: one candidate pool for all questions
    info = {"corpus": str(path), **retriever.info, "retrieval_seconds": round(time.perf_counter() - started, 2)}
    if "embeddings_cached" in info:
        state = "reused from cache" if info["embeddings_cached"] else "computed and cached"
        print(f"retrieval: {info['passages']} passages (of up to {cfg.chunk_words} words) in {corpus_label(path, data)}; "
              f"{info['embedded_passages']} embedded "
              f"({info['dense_scope']}), embeddings {state} in {info['embed_seconds']} s; faiss {info['index_kind']}")
    contexts, start = [], 0
    for qs in question_sets:
        contexts.append([truncate_words(c, cfg.context_words) for c in joined[start:start + len(qs)]])
        start += len(qs)
    return contexts, info, retriever
