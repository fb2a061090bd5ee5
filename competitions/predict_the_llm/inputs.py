"""The checked inputs of the solution: question, response and target of every row.

    pairs = Pairs.from_frames(ctx.data.tables["train"], ctx.data.tables["test"])
    pairs.train_q, pairs.train_r, pairs.y      # lists of str, (n,) ints in 0..6
    pairs.test_q, pairs.test_r, pairs.test_ids
    pairs.all_q, pairs.all_r                   # train rows then test rows
    pairs.with_train_rows(np.array([0, 1, 2]))  # the same test, train cut to those rows

Only Kaggle's columns are read (Question, Response, target, id): extra columns of a sample
(generator, source) are never features. Bad input is a UserError with one line, raised before
any model runs: a target outside 0..6, a missing or empty Question or Response, a repeated test id.
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
        return cls(text_column(train, "Question", "train.csv"), text_column(train, "Response", "train.csv"),
                   targets(train), text_column(test, "Question", "test.csv"), text_column(test, "Response", "test.csv"),
                   unique_ids(test, "test.csv"))

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
