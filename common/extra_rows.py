"""Training rows beyond a competition's train file: a file named by an option, or one beside the data.

    path = extra_rows_path(cfg.extra_train, ctx.data.path, kind="prompt_recovery")  # or None
    frame = read_rows(path)                                     # CSV (every column a string) or Parquet
    keep = new_rows(frame["text"].to_list(), seen=train_texts)  # row numbers whose key is new

Some real Kaggle train files hold too few rows to learn from (detect-ai-text: 3 generated essays;
prompt-recovery: one example) and the winning solutions trained on data made elsewhere. A file
given by the option is also copied to cache/<kind>/extra_train/<its name>, and a solution lists
that copy among its run's model files, so the Kaggle notebook bundle carries it: on Kaggle the
option's path does not exist and the bundled copy is read instead. Without the option,
train_extra.csv or train_extra.parquet beside the data files is used when it is there.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from common.atomic import atomic_path
from common.data import read_csv
from common.errors import UserError
from common.paths import cache_dir

BESIDE_THE_DATA = ("train_extra.csv", "train_extra.parquet")


def trained_on(added: dict | None) -> str:
    """The extra file a run trained on beside train, for its record ('' when there was none, or when
    every row of it repeated one of train's: the run then learned from train alone and ranks with
    such runs).

        trained_on({"path": "daigt.csv", "rows": 0, "repeats_dropped": 12})   # ''
    """
    return added["path"] if added and added.get("rows") else ""


def cached_copy(option: str, kind: str) -> Path:
    """Where the option's file is kept: cache/<kind>/extra_train/<file name>."""
    return cache_dir(kind) / "extra_train" / Path(option).name


def extra_rows_path(option: str, data_folder: Path, kind: str) -> Path | None:
    """The option's file (copied to the cache; or that copy where the file is not here, as on
    Kaggle), else train_extra.csv/.parquet in the data folder, else None."""
    if option:
        path, copy = Path(option).expanduser(), cached_copy(option, kind)
        if path.is_file():
            if not copy.is_file() or copy.stat().st_size != path.stat().st_size or copy.read_bytes() != path.read_bytes():
                with atomic_path(copy) as tmp:
                    shutil.copyfile(path, tmp)
            return path
        if copy.is_file():
            return copy
        raise UserError(f"extra_train: {path} is a folder, not a file" if path.is_dir() else f"extra_train: no such file: {path}")
    return next((data_folder / name for name in BESIDE_THE_DATA if (data_folder / name).is_file()), None)


def read_rows(path: Path) -> pl.DataFrame:
    """The file's rows (a CSV's columns all as strings); unreadable or empty is a one-line UserError."""
    try:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else read_csv(path, infer_schema_length=0)
    except (pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: cannot read: {first}") from None
    if frame.height == 0:
        raise UserError(f"{path}: no rows")
    return frame


def exact(text) -> str:
    """A row's text as repeats are found where case and spacing carry meaning: trimmed only."""
    return str(text).strip()


def row_key(text) -> str:
    """A row's text as repeats are found: case-folded, runs of spacing as one space (an external
    set's copy of an essay often differs only in its line breaks or case)."""
    return " ".join(str(text).casefold().split())


def new_rows(keys: list[str], seen: Iterable[str], key: Callable[[str], str] = row_key) -> list[int]:
    """Row numbers whose `key(...)` is neither in `seen` nor earlier in `keys` (`key`: `row_key`, or
    `exact` where case and spacing are the data itself)."""
    known = {key(k) for k in seen}
    keep = []
    for i, k in enumerate(keys):
        k = key(k)
        if k not in known:
            known.add(k)
            keep.append(i)
    return keep
