"""More (original, rewrite, instruction) rows beyond train.csv, appended to it (common/extra_rows.py).

    train, info = train_with_extra(ctx.data.tables["train"], cfg.extra_train, ctx.data.path)
    info   # None, or {"path", "rows", "repeats_dropped"}

The real competition's train.csv is a single example row: its solutions trained on rewrites made
elsewhere (instructions written by an LLM, rewrites by Gemma). Such a file needs the columns
original_text, rewrite_prompt and rewritten_text (an id column is not needed: the rows get ids
extra-0, extra-1, ...); other columns are ignored. A row whose (original, rewrite) pair is already in
train or earlier in the file, exactly (trimmed: case and line breaks are often the rewrite itself),
is dropped, so no pair sits in a training fold and its held-out fold at once.
"""
from __future__ import annotations

from pathlib import Path

import polars as pl

from common.columns import text_column
from common.errors import UserError
from common.extra_rows import cached_copy, exact, extra_rows_path, new_rows, read_rows

KIND = "prompt_recovery"
COLUMNS = ("original_text", "rewrite_prompt", "rewritten_text")
HINT = ("; add rewrites with --set extra_train=FILE (columns original_text, rewrite_prompt, rewritten_text) "
        "or a train_extra.csv beside the data")


def bundled_copy(option: str) -> Path:
    """The cached copy of the option's file, which the Kaggle notebook bundle carries."""
    return cached_copy(option, KIND)


def _pair_keys(frame: pl.DataFrame, where: str) -> list[str]:
    originals, rewrites = text_column(frame, "original_text", where), text_column(frame, "rewritten_text", where)
    return [f"{o.strip()}\x00{r.strip()}" for o, r in zip(originals, rewrites)]


def train_with_extra(train: pl.DataFrame, option: str, data_folder: Path) -> tuple[pl.DataFrame, dict | None]:
    """Train's rows, then the extra file's new ones (ids extra-0, extra-1, ...); and what was added."""
    path = extra_rows_path(option, data_folder, KIND)
    if path is None:
        return train, None
    frame = read_rows(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: needs the columns {', '.join(COLUMNS)}; missing {', '.join(missing)}")
    frame = frame.select([pl.col(c).cast(pl.Utf8) for c in COLUMNS])
    text_column(frame, "rewrite_prompt", str(path))
    keep = new_rows(_pair_keys(frame, str(path)), seen=_pair_keys(train, "train.csv"), key=exact)   # case is a rewrite
    added = frame[keep].with_columns(pl.Series("id", [f"extra-{i}" for i in range(len(keep))], dtype=pl.String))
    combined = pl.concat([train.select(pl.col("id").cast(pl.String), *COLUMNS), added.select("id", *COLUMNS)])
    return combined, {"path": str(path), "rows": len(keep), "repeats_dropped": frame.height - len(keep)}
