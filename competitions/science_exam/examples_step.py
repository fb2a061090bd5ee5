"""Retrieved solved questions: the second retrieval source of lm_rag, beside the corpus passages.

    memory = SolvedMemory.build(cfg, train, folds)            # train rows (+ `--set memory=FILE`)
    train_examples = memory.retrieved(train, folds)           # never from the question's own fold
    test_examples = memory.retrieved(test)                    # every solved row allowed
    control = memory.random(train, folds, seed)               # same count, picked at random

Each example is "Question: <prompt>\\nAnswer: <correct option>", most similar last (nearest the
question the LM answers). Similarity is the encoder's cosine between "question + options" texts.
Questions that rest on the same science fact are often worded alike, so a solved neighbour
carries the fact the passages lack. `memory` adds solved questions from a file in train.csv's
schema (for example a set of extra generated questions); those rows are allowed for every fold,
so a row that repeats a train question (the same prompt and options, in any order, case and
spacing aside) is dropped, as are repeats within the file: a train question would otherwise be
shown its own answer in CV.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.data import read_table
from common.extra_rows import new_rows, row_key
from common.retrieval import embed_passages, nearest_allowed

from competitions.science_exam import COMPETITION
from competitions.science_exam.config import SolutionConfig
from competitions.science_exam.questions import Questions


def _texts(questions: Questions) -> list[str]:
    return [f"{p} {' '.join(opts)}" for p, opts in zip(questions.prompts, questions.options)]


def question_keys(questions: Questions) -> list[str]:
    """One key per question: its prompt and its set of options, case and spacing aside (`row_key`)."""
    return ["\x00".join([row_key(p), *sorted(row_key(o) for o in opts)]) for p, opts in zip(questions.prompts, questions.options)]


def _solved(questions: Questions) -> list[str]:
    return [f"Question: {p.strip()}\nAnswer: {opts[label].strip()}"
            for p, opts, label in zip(questions.prompts, questions.options, questions.labels)]


@dataclass
class SolvedMemory:
    cfg: SolutionConfig
    examples: list[str]
    vectors: np.ndarray
    groups: np.ndarray          # CV fold of each train row; -1 for rows of the extra file
    info: dict

    @classmethod
    def build(cls, cfg: SolutionConfig, train: Questions, folds: np.ndarray,
              held_out: Questions | None = None) -> "SolvedMemory":
        """`held_out`: questions scored as held out but not in `train` (the edge port's check rows):
        a file row repeating one of them is dropped too."""
        rows, groups = [train], [folds]
        if cfg.memory:
            path = Path(cfg.memory).expanduser()
            extra = Questions.from_frame(read_table(path, COMPETITION.schema.tables["train"]), str(path))
            seen = question_keys(train) + (question_keys(held_out) if held_out is not None else [])
            keep = new_rows(question_keys(extra), seen=seen)
            repeats = len(extra) - len(keep)
            extra = extra.subset(np.array(keep, dtype=np.int64))
            rows.append(extra)
            groups.append(np.full(len(extra), -1))
        texts = [t for qs in rows for t in _texts(qs)]
        vectors, cached = embed_passages(texts, cfg.encoder, show_progress=False)
        info = {"memory_rows": len(texts), "memory_extra_rows": len(texts) - len(train), "memory_embeddings_cached": cached}
        if cfg.memory:
            info["memory_repeats_dropped"] = repeats
        return cls(cfg, [e for qs in rows for e in _solved(qs)], vectors, np.concatenate(groups), info)

    def _join(self, ids: np.ndarray) -> list[str]:
        return ["\n\n".join(self.examples[j] for j in row[::-1] if j >= 0) for row in ids]

    def retrieved(self, questions: Questions, folds: np.ndarray | None = None) -> list[str]:
        """The `examples` most similar solved questions of each question, joined."""
        queries, _ = embed_passages(_texts(questions), self.cfg.encoder, show_progress=False)
        groups = self.groups if folds is not None else None
        return self._join(nearest_allowed(queries, self.vectors, self.cfg.examples, folds, groups))

    def random(self, questions: Questions, folds: np.ndarray, seed: int) -> list[str]:
        """The control: as many solved questions, drawn at random from the other folds."""
        rng = np.random.default_rng(seed)
        ids = np.full((len(questions), self.cfg.examples), -1, dtype=np.int64)
        for i, fold in enumerate(folds):
            allowed = np.flatnonzero((self.groups != fold) | (self.groups < 0))
            n = min(len(allowed), self.cfg.examples)
            ids[i, :n] = rng.choice(allowed, n, replace=False)
        return self._join(ids)


def with_examples(passages: list[str] | None, examples: list[str] | None) -> list[str] | None:
    """One context per question: passages first, then the solved examples next to the question."""
    if passages is None:
        return examples
    if examples is None:
        return passages
    return ["\n\n".join(part for part in (p, e) if part) for p, e in zip(passages, examples)]
