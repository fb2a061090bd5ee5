"""A tiny slice of the committed predict-the-llm sample, written in Kaggle's file layout (only
Kaggle's columns: the sample's generator/source columns are left out)."""
from __future__ import annotations

from pathlib import Path

import polars as pl

from common.registry import get_competition


def write_slice(folder: Path, train_questions: int = 10, test_questions: int = 3) -> Path:
    """train.csv (the first `train_questions` questions' 7 responses each) and test.csv +
    test_labels.csv (the first `test_questions` test questions) in `folder`."""
    sample = get_competition("predict-the-llm").sample_dir
    train = pl.read_csv(sample / "train.csv")
    test = pl.read_csv(sample / "test.csv").join(pl.read_csv(sample / "test_labels.csv"), on="id")
    keep_train = train["Question"].unique(maintain_order=True).head(train_questions)
    keep_test = test["Question"].unique(maintain_order=True).head(test_questions)
    train = train.filter(pl.col("Question").is_in(keep_train.implode()))
    test = test.filter(pl.col("Question").is_in(keep_test.implode()))
    folder.mkdir(parents=True, exist_ok=True)
    train.select("Question", "Response", "target").write_csv(folder / "train.csv")
    test.select("id", "Question", "Response").write_csv(folder / "test.csv")
    test.select("id", "target").write_csv(folder / "test_labels.csv")
    return folder
