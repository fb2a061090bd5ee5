"""Checked columns of a loaded table, each bad value a one-line UserError naming its row.

    texts = text_column(train, "original_text", "train.csv")   # list of non-blank str
    ids = unique_ids(test, "test.csv")                          # list of ids, none null or repeated
"""
from __future__ import annotations

import polars as pl

from common.errors import UserError


def text_column(frame: pl.DataFrame, column: str, where: str, blank_ok: bool = False) -> list[str]:
    """The column as a list of strings; a missing column, or a null or blank value, is a UserError.
    blank_ok: a null or blank value is data, not an error (a response that says nothing): it
    reads as "".

        text_column(train, "Response", "train.csv", blank_ok=True)   # [..., "", ...]
    """
    if column not in frame.columns:
        raise UserError(f"{where}: no {column} column")
    values = frame[column].to_list()
    if blank_ok:
        return ["" if t is None or not str(t).strip() else str(t) for t in values]
    for i, text in enumerate(values):
        if text is None or not str(text).strip():
            raise UserError(f"{where}: row {i + 1} has an empty {column}")
    return [str(t) for t in values]


def unique_ids(frame: pl.DataFrame, where: str, column: str = "id") -> list:
    """The id column as a list; a missing column, a null or a repeated id is a UserError."""
    if column not in frame.columns:
        raise UserError(f"{where}: no {column} column")
    ids = frame[column]
    if ids.null_count():
        raise UserError(f"{where}: {ids.null_count()} row(s) without an {column}")
    repeated = ids.filter(ids.is_duplicated())
    if len(repeated):
        raise UserError(f"{where}: {column} {repeated[0]} occurs {len(repeated.filter(repeated == repeated[0]))} times")
    return ids.to_list()
