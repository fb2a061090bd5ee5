"""The checked inputs of the solution: original text, rewrite and (train) instruction of every row.

    rw = Rewrites.from_frames(ctx.data.tables["train"], ctx.data.tables["test"])
    rw.train_o, rw.train_r, rw.prompts      # lists of str (originals, rewrites, rewrite prompts)
    rw.test_o, rw.test_r, rw.test_ids
    rw.check_prompt_lengths(encoder)        # a train prompt over the metric encoder's limit: UserError

Only Kaggle's columns are read (id, original_text, rewrite_prompt, rewritten_text): the sample's
extra columns (source, model, gen_config) are never features. Bad input is a UserError with one
line, raised before any model runs: a missing column, an empty original or rewritten text or
prompt, a repeated test id, a train prompt longer than the metric encoder reads.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from common.columns import text_column, unique_ids
from common.errors import UserError


@dataclass
class Rewrites:
    train_o: list[str]
    train_r: list[str]
    prompts: list[str]
    test_o: list[str]
    test_r: list[str]
    test_ids: list

    @classmethod
    def from_frames(cls, train: pl.DataFrame, test: pl.DataFrame) -> "Rewrites":
        return cls(text_column(train, "original_text", "train.csv"), text_column(train, "rewritten_text", "train.csv"),
                   text_column(train, "rewrite_prompt", "train.csv"), text_column(test, "original_text", "test.csv"),
                   text_column(test, "rewritten_text", "test.csv"), unique_ids(test, "test.csv"))

    @property
    def n_train(self) -> int:
        return len(self.prompts)

    def check_prompt_lengths(self, encoder) -> None:
        """Every train prompt fits the metric encoder (`encoder.limit` tokens), else a UserError:
        the metric would silently cut it, and the mean prompt could not be compared with it."""
        lengths = encoder.token_counts(self.prompts)
        over = [i for i, n in enumerate(lengths) if n > encoder.limit]
        if over:
            i = over[0]
            raise UserError(f"train.csv: row {i + 1} has a rewrite_prompt of {lengths[i]} tokens; "
                            f"the metric encoder {encoder.name} reads at most {encoder.limit}")
