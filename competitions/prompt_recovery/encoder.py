"""The metric's sentence encoder, loaded once and memoized text by text.

    enc = MetricEncoder("minilm")             # or "sentence-transformers/sentence-t5-base", a folder
    enc.encode(["Rewrite this text."])        # (n, d) float32, unit rows; each text encoded once
    enc.row_scores(truth, pred)               # (n,) cos(e(pred), e(true)) ** 3, per row
    enc.metric(truth, pred)                   # the registered sharpened cosine through this encoder
    enc.token_counts(texts), enc.limit        # the encoder's tokens per text, and how many it reads

Scores, the mean-prompt search and nearest_prompt's targets all go through one instance, so a
string the search or a fold has encoded before is never encoded again in the run.
"""
from __future__ import annotations

import numpy as np

from common.metrics.similarity import sharpened_cosine


class MetricEncoder:
    def __init__(self, name: str):
        from common.models import model_fingerprint, shared_sentence_encoder

        self.name = name
        self.fingerprint = model_fingerprint(name, "encoder")
        self.model = shared_sentence_encoder(name)
        self.limit = int(self.model.max_seq_length)
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts) -> np.ndarray:
        texts = [str(t) for t in texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            vectors = self.model.encode(missing, batch_size=64, show_progress_bar=False,
                                        convert_to_numpy=True, normalize_embeddings=True)
            self._memo.update(zip(missing, vectors.astype(np.float32)))
        if not texts:
            return np.zeros((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])

    def row_scores(self, truth, pred) -> np.ndarray:
        a, b = self.encode(pred).astype(np.float64), self.encode(truth).astype(np.float64)
        return np.sum(a * b, axis=1) ** 3

    def metric(self, truth, pred) -> float:
        return sharpened_cosine(list(truth), list(pred), encode=self.encode)

    def token_counts(self, texts) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]]

    def whole_words(self, limit: int) -> list[str]:
        """The first `limit` vocabulary tokens (by id: the commonest first in WordPiece and
        SentencePiece vocabularies) that are whole alphabetic words of 2+ letters."""
        tokenizer = self.model.tokenizer
        words: dict[str, None] = {}
        for token, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1]):
            if len(words) >= limit:
                break
            surface = tokenizer.convert_tokens_to_string([token]).strip()
            if len(surface) >= 2 and surface.isalpha() and surface.isascii():
                words[surface] = None
        return list(words)
