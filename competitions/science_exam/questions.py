"""Questions as plain lists, checked once: prompts, option texts, labels, retrieval queries.

    qs = Questions.from_frame(train, "train.csv")
    qs.prompts[2], qs.options[2]     # "Predators eat", ["Drink a hot chocolate", "grass", ...]
    qs.labels                        # array of option indices (train only)
    to_letters(scores)               # ["E C B", ...]: top 3 options by score, best first
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from common.errors import UserError

OPTIONS = ("A", "B", "C", "D", "E")


@dataclass
class Questions:
    ids: list
    prompts: list[str]
    options: list[list[str]]
    labels: np.ndarray | None

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, where: str) -> "Questions":
        if frame.is_empty():
            raise UserError(f"{where}: no questions")
        for column in ("prompt", *OPTIONS):
            bad = frame.with_row_index("_row").filter(
                pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == ""))
            if len(bad):
                raise UserError(f"{where}: empty {column!r} in row {bad['_row'][0] + 1} (id {bad['id'][0]})")
        labels = None
        if "answer" in frame.columns:
            answers = frame["answer"].cast(pl.String).str.strip_chars().to_list()
            wrong = [a for a in answers if a not in OPTIONS]
            if wrong:
                raise UserError(f"{where}: answer must be one of A-E, found {wrong[0]!r}")
            labels = np.array([OPTIONS.index(a) for a in answers], dtype=np.int64)
        options = [list(map(str, row)) for row in frame.select(OPTIONS).iter_rows()]
        return cls(frame["id"].to_list(), [str(p) for p in frame["prompt"].to_list()], options, labels)

    def __len__(self) -> int:
        return len(self.prompts)

    def subset(self, rows: np.ndarray) -> "Questions":
        return Questions([self.ids[i] for i in rows], [self.prompts[i] for i in rows],
                         [self.options[i] for i in rows], None if self.labels is None else self.labels[rows])

    def queries(self) -> list[str]:
        """Retrieval queries: the question followed by all its options (finds passages about each)."""
        return [f"{p} {' '.join(opts)}" for p, opts in zip(self.prompts, self.options)]


def to_letters(scores: np.ndarray) -> list[str]:
    """Top three options per row, best first, as 'A B C'; ties keep the letter order."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :3]
    return [" ".join(OPTIONS[j] for j in row) for row in order]


def truncate_words(text: str, max_words: int) -> str:
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])


def _mentions(context: str, phrase: str) -> bool:
    phrase = phrase.strip().lower()
    return bool(phrase) and re.search(rf"\b{re.escape(phrase)}\b", context.lower()) is not None


def retrieval_quality(questions: Questions, contexts: list[str]) -> dict[str, float]:
    """How often the retrieved context names the right option vs a wrong one (labelled rows).

    answer_in_context: share of questions whose context contains the correct option's text.
    distractor_in_context: the same share averaged over the four wrong options. The gap between
    them is what retrieval gives the answering models."""
    if questions.labels is None:
        raise ValueError("retrieval_quality needs labelled questions")
    right, wrong = [], []
    for options, label, context in zip(questions.options, questions.labels, contexts):
        right.append(_mentions(context, options[label]))
        wrong.append(np.mean([_mentions(context, o) for j, o in enumerate(options) if j != label]))
    return {"answer_in_context": round(float(np.mean(right)), 4),
            "distractor_in_context": round(float(np.mean(wrong)), 4)}
