"""The checked inputs of the solution: question, response and target of every row.

    pairs = Pairs.from_frames(ctx.data.tables["train"], ctx.data.tables["test"])
    pairs.train_q, pairs.train_r, pairs.y      # lists of str, (n,) ints in 0..6
    pairs.test_q, pairs.test_r, pairs.test_ids
    pairs.all_q, pairs.all_r                   # train rows then test rows
    pairs.with_train_rows(np.array([0, 1, 2]))  # the same test, train cut to those rows

Only Kaggle's columns are read (Question, Response, target, id): extra columns of a sample
(generator, source) are never features. Bad input is a UserError with one line, raised before
any model runs: a target outside 0..6, a missing column, an empty Question, a repeated test id.
An empty Response is data, not bad input (Kaggle's train.csv holds null responses: a model
that answered nothing): it reads as "" in train and test alike, and `blank_note` says how many.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from common.columns import text_column, unique_ids
from common.errors import UserError
from competitions.predict_the_llm import N_TARGETS


def targets(frame: pl.DataFrame, where: str = "train.csv") -> np.ndarray:
    """The target column as ints; a null or one outside 0..N_TARGETS-1 is a UserError."""
    y = frame["target"]
    if y.null_count():
        raise UserError(f"{where}: {y.null_count()} row(s) without a target")
    bad = ~y.is_between(0, N_TARGETS - 1)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{where}: row {row + 1} has target {y[row]}; targets must lie in 0..{N_TARGETS - 1}")
    return y.to_numpy().astype(np.int64)


@dataclass
class Pairs:
    train_q: list[str]
    train_r: list[str]
    y: np.ndarray
    test_q: list[str]
    test_r: list[str]
    test_ids: list

    @classmethod
    def from_frames(cls, train: pl.DataFrame, test: pl.DataFrame) -> "Pairs":
        return cls(text_column(train, "Question", "train.csv"), text_column(train, "Response", "train.csv", blank_ok=True),
                   targets(train), text_column(test, "Question", "test.csv"),
                   text_column(test, "Response", "test.csv", blank_ok=True), unique_ids(test, "test.csv"))

    def blank_note(self, outcome: str = "read as empty text (a model that answered nothing)") -> str:
        """'note: 3 train and 1 test responses are empty: <outcome>', or "" when none is."""
        train, test = (sum(not r.strip() for r in rs) for rs in (self.train_r, self.test_r))
        return f"note: {train} train and {test} test responses are empty: {outcome}" if train or test else ""

    def without_empty_responses(self) -> "Pairs":
        """The same pairs less those whose response is empty (the device program refuses empty text)."""
        train = [i for i, r in enumerate(self.train_r) if r.strip()]
        test = [i for i, r in enumerate(self.test_r) if r.strip()]
        return replace(self.with_train_rows(np.array(train, dtype=np.int64)), test_q=[self.test_q[i] for i in test],
                       test_r=[self.test_r[i] for i in test], test_ids=[self.test_ids[i] for i in test])

    def with_train_rows(self, rows: np.ndarray) -> "Pairs":
        keep = [int(i) for i in rows]
        return replace(self, train_q=[self.train_q[i] for i in keep], train_r=[self.train_r[i] for i in keep],
                       y=self.y[keep])

    @property
    def n_train(self) -> int:
        return len(self.train_q)

    @property
    def all_q(self) -> list[str]:
        return self.train_q + self.test_q

    @property
    def all_r(self) -> list[str]:
        return self.train_r + self.test_r
