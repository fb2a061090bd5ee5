"""Labeled essays beyond train_essays.csv, appended to the training rows (common/extra_rows.py).

    path = extra_train_path(cfg.extra_train, ctx.data.path)   # --set extra_train=FILE (kept in the
                                                              # cache too), else train_extra.csv/.parquet
                                                              # beside the data
    texts, labels = read_extra_train(path)                    # non-blank texts, 0/1 labels
    texts, labels, dropped = drop_repeats(texts, labels, train_texts)
    texts, y, added = with_extra_rows(train_texts, y, cfg.extra_train, ctx.data.path)   # all three in one

The real competition's train_essays.csv holds 1,378 essays of which 3 are generated, too few for
stratified folds; its winning solutions trained on essays generated elsewhere (the DAIGT
datasets, whose `label` column is this one's `generated`). Such a file needs a `text` column and
a `generated` (or `label`) column of 0 and 1; other columns are ignored. Texts already in train
(an external set may hold the competition's own essays), case and spacing aside,
or repeated in the file are dropped, so no essay can
sit in a training fold and its held-out fold at once.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.columns import text_column
from common.errors import UserError
from common.extra_rows import cached_copy, extra_rows_path, new_rows, read_rows

KIND = "detect_ai_text"
LABEL_COLUMNS = ("generated", "label")


def extra_train_path(option: str, data_folder: Path) -> Path | None:
    return extra_rows_path(option, data_folder, KIND)


def bundled_copy(option: str) -> Path:
    """The cached copy of the option's file, which the Kaggle notebook bundle carries."""
    return cached_copy(option, KIND)


def read_extra_train(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, labels) of a CSV or Parquet file; a bad file or value is a one-line UserError."""
    frame = read_rows(path)
    column = next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    if column is None:
        raise UserError(f"{path}: needs a 'generated' or 'label' column (0 or 1) beside 'text'")
    texts = text_column(frame, "text", str(path))
    raw = [None if v is None else str(v).strip() for v in frame[column].to_list()]
    bad = next((i for i, v in enumerate(raw) if v not in ("0", "1")), None)
    if bad is not None:
        raise UserError(f"{path}: row {bad + 1} has {column} {raw[bad]!r}; it must be 0 or 1")
    return texts, np.asarray([int(v) for v in raw], dtype=int)


def drop_repeats(texts: list[str], labels: np.ndarray, train_texts: list[str]) -> tuple[list[str], np.ndarray, int]:
    """The rows whose text (case and spacing aside: `common.extra_rows.row_key`) is
    neither in train nor earlier in the file, and how many were dropped."""
    keep = new_rows(texts, seen=train_texts)
    return [texts[i] for i in keep], labels[keep], len(texts) - len(keep)


def with_extra_rows(texts: list[str], y: np.ndarray, option: str, data_folder: Path):
    """(train's texts and labels followed by the extra file's new ones, what was added or None)."""
    path = extra_train_path(option, data_folder)
    if path is None:
        return texts, y, None
    extra_texts, extra_y, dropped = drop_repeats(*read_extra_train(path), texts)
    added = {"path": str(path), "rows": len(extra_texts), "generated": int(extra_y.sum()), "repeats_dropped": dropped}
    return texts + extra_texts, np.concatenate([y, extra_y]), added
