"""The science answerer's retrieval on the device: the query, a sentence encoder's vectors, the
host's TF-IDF over the shipped passages, and reciprocal rank fusion of their rankings. Copied to
the device beside science.py; imports only numpy, tokenizers and the standard library.

    sparse = SparseIndex(terms, idf, stop_words, indptr, rows, values, n_passages)
    ids = rrf([dense_ids, sparse.search(query_text(prompt, options), 20)], top_k=3)
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")      # scikit-learn's default token pattern


def query_text(prompt: str, options: list[str]) -> str:
    return f"{prompt} {' '.join(options)}"


def truncate_words(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])


def rrf(rankings: list[list[int]], top_k: int, rrf_k: float = 60.0) -> list[int]:
    """Reciprocal rank fusion of ranked id lists; ties keep the first appearance (list 0 first)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            if pid >= 0:
                scores[int(pid)] = scores.get(int(pid), 0.0) + 1.0 / (rrf_k + rank)
    return [pid for pid, _ in sorted(scores.items(), key=lambda item: -item[1])[:top_k]]


class Encoder:
    """The ONNX sentence encoder: texts -> (N, D) L2-normalized float32 vectors, mean pooled by the
    graph itself. session: an onnxruntime session of it (classifier.py's encoder_session).

        Encoder(encoder_session(Path("encoder.onnx")), Path("encoder_tokenizer.json"), 256).encode(["a query"])
    """

    def __init__(self, session, tokenizer: Path, max_length: int):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        self.session = session
        self.names = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:      # one at a time: batch 1, no padding
            e = self.tokenizer.encode(text)
            columns = {"input_ids": e.ids, "attention_mask": e.attention_mask, "token_type_ids": e.type_ids}
            feeds = {name: np.asarray([columns[name]], dtype=np.int64) for name in self.names}  # (1, T)
            rows.append(self.session.run(None, feeds)[0][0])
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class SparseIndex:
    """The host's TF-IDF restricted to the shipped passages: a query's cosine with each passage.
    Terms a query has and no shipped passage has change no ranking, so they are not shipped.
    search() returns only passages with a positive score: when fewer than k have one, the host
    fills its list with zero-score passages in np.argpartition's order over the whole corpus,
    which the device cannot know (short queries on a tiny corpus; not seen on the sample's)."""

    def __init__(self, terms: list[str], idf: np.ndarray, stop_words: list[str], indptr: np.ndarray,
                 rows: np.ndarray, values: np.ndarray, n_passages: int):
        self.vocabulary = {t: i for i, t in enumerate(terms)}
        self.idf, self.stop = np.asarray(idf, dtype=np.float64), set(stop_words)
        self.indptr, self.rows, self.values = indptr, rows, values     # term-major (CSC) matrix
        self.n = n_passages

    def analyze(self, text: str) -> list[str]:
        tokens = [t for t in TOKEN.findall(text.lower()) if t not in self.stop]
        return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]

    def scores(self, text: str) -> np.ndarray:
        counts: dict[int, int] = {}
        for gram in self.analyze(text):
            j = self.vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        out = np.zeros(self.n, dtype=np.float64)
        for j, c in counts.items():
            weight = (1.0 + math.log(c)) * self.idf[j]
            lo, hi = self.indptr[j], self.indptr[j + 1]
            np.add.at(out, self.rows[lo:hi], weight * self.values[lo:hi].astype(np.float64))
        return out

    def search(self, text: str, k: int) -> list[int]:
        s = self.scores(text)
        return [int(i) for i in np.argsort(-s, kind="stable")[:k] if s[i] > 0]
