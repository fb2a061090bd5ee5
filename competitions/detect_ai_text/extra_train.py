"""Labeled essays beyond train_essays.csv, appended to the training rows.

    path = extra_train_path(cfg.extra_train, ctx.data.path)   # --set extra_train=FILE (kept in the
                                                              # cache too), else train_extra.csv/.parquet
                                                              # beside the data
    texts, labels = read_extra_train(path)                    # non-blank texts, 0/1 labels
    texts, labels, dropped = drop_repeats(texts, labels, train_texts)

The real competition's train_essays.csv holds 1,378 essays of which 3 are generated, too few for
stratified folds; its winning solutions trained on essays generated elsewhere (the DAIGT
datasets, whose `label` column is this one's `generated`). Such a file needs a `text` column and
a `generated` (or `label`) column of 0 and 1; other columns are ignored. Texts already in train
(DAIGT holds the competition's own essays) or repeated in the file are dropped, so no essay can
sit in a training fold and its held-out fold at once.

A file given by the option is also copied to cache/detect_ai_text/extra_train/<its name>, and the
run lists that copy among its model files, so the Kaggle notebook bundle carries it: on Kaggle the
option's path does not exist and the copy in the bundle's cache is read instead.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl

from common.atomic import atomic_path
from common.columns import text_column
from common.errors import UserError
from common.paths import cache_dir

BESIDE_THE_DATA = ("train_extra.csv", "train_extra.parquet")
LABEL_COLUMNS = ("generated", "label")


def cached_copy(option: str) -> Path:
    return cache_dir("detect_ai_text") / "extra_train" / Path(option).name


def extra_train_path(option: str, data_folder: Path) -> Path | None:
    """The option's file (copied to the cache, or that copy where the file is not here, as on
    Kaggle), else train_extra.csv/.parquet in the data folder, else None."""
    if option:
        path, copy = Path(option).expanduser(), cached_copy(option)
        if path.is_file():
            if not copy.is_file() or copy.stat().st_size != path.stat().st_size or copy.read_bytes() != path.read_bytes():
                with atomic_path(copy) as tmp:
                    shutil.copyfile(path, tmp)
            return path
        if copy.is_file():
            return copy
        raise UserError(f"extra_train: no such file: {path}")
    return next((data_folder / name for name in BESIDE_THE_DATA if (data_folder / name).is_file()), None)


def read_extra_train(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, labels) of a CSV or Parquet file; a bad file or value is a one-line UserError."""
    try:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema_length=0)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: cannot read: {first}") from None
    if frame.height == 0:
        raise UserError(f"{path}: no rows")
    column = next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    if column is None:
        raise UserError(f"{path}: needs a 'generated' or 'label' column (0 or 1) beside 'text'")
    texts = text_column(frame, "text", str(path))
    raw = frame[column].cast(pl.Utf8).str.strip_chars().to_list()
    bad = next((i for i, v in enumerate(raw) if v not in ("0", "1")), None)
    if bad is not None:
        raise UserError(f"{path}: row {bad + 1} has {column} {raw[bad]!r}; it must be 0 or 1")
    return texts, np.asarray([int(v) for v in raw], dtype=int)


def drop_repeats(texts: list[str], labels: np.ndarray, train_texts: list[str]) -> tuple[list[str], np.ndarray, int]:
    """The rows whose text (whitespace-trimmed) is neither in train nor earlier in the file, and how
    many were dropped."""
    seen = {t.strip() for t in train_texts}
    keep = []
    for i, text in enumerate(texts):
        key = text.strip()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return [texts[i] for i in keep], labels[keep], len(texts) - len(keep)
