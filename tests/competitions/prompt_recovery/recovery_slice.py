"""A tiny slice of the committed prompt-recovery sample, written in Kaggle's file layout (only
Kaggle's columns: the sample's source/model/gen_config columns are left out)."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from common.registry import get_competition

TRAIN_COLUMNS = ("id", "original_text", "rewrite_prompt", "rewritten_text")


def write_slice(folder: Path, train_rows: int = 30, test_rows: int = 4) -> Path:
    """train.csv (the first `train_rows` rows), test.csv and test_labels.csv (the first
    `test_rows` test rows) in `folder`."""
    sample = get_competition("prompt-recovery").sample_dir
    train = pl.read_csv(sample / "train.csv").head(train_rows)
    test = pl.read_csv(sample / "test.csv").head(test_rows)
    labels = pl.read_csv(sample / "test_labels.csv").head(test_rows)
    folder.mkdir(parents=True, exist_ok=True)
    train.select(TRAIN_COLUMNS).write_csv(folder / "train.csv")
    test.select("id", "original_text", "rewritten_text").write_csv(folder / "test.csv")
    test.select("id").with_columns(pl.lit("Improve this text.").alias("rewrite_prompt")).write_csv(
        folder / "sample_submission.csv")
    labels.select("id", "rewrite_prompt").write_csv(folder / "test_labels.csv")
    return folder
