"""Check a prediction frame against a competition's submission schema, then write it atomically.

    path = write_submission(competition, predictions, test_frame)
    # -> submissions/<slug>/submission.csv, or UserError and no file at all

Checks: the same ids as test (no missing, extra or repeated rows), exactly the submission
columns with the right types, no NaN / null / empty strings, values in range, probability
rows that sum to 1, and for MAP@3 exactly three distinct letters A-E per row.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from common.atomic import atomic_path, check_output_path
from common.errors import UserError
from common.paths import submissions_dir
from common.registry import Competition
from common.schema import SubmissionSchema

LETTERS = set("ABCDE")
ROW_SUM_TOLERANCE = 1e-4


def _check_ids(frame: pl.DataFrame, test: pl.DataFrame, id_column: str) -> None:
    ids = frame[id_column]
    if ids.null_count():
        raise UserError(f"submission: {ids.null_count()} row(s) without {id_column}")
    if ids.n_unique() != len(ids):
        raise UserError(f"submission: {len(ids) - ids.n_unique()} repeated {id_column}(s)")
    expected = set(test[id_column].cast(pl.String).to_list())
    got = set(ids.cast(pl.String).to_list())
    if got != expected:
        missing, extra = len(expected - got), len(got - expected)
        raise UserError(f"submission: ids differ from test ({missing} missing, {extra} extra)")


def _check_values(frame: pl.DataFrame, schema: SubmissionSchema) -> None:
    for column in schema.columns:
        series = frame[column]
        if series.null_count():
            raise UserError(f"submission: column {column!r} has {series.null_count()} missing value(s)")
    if schema.kind in ("probability", "probabilities"):
        try:
            values = frame.select(schema.columns).cast(pl.Float64).to_numpy()
        except pl.exceptions.PolarsError:
            raise UserError(f"submission: columns {', '.join(schema.columns)} must be numbers") from None
        if not np.all(np.isfinite(values)):
            raise UserError("submission: probabilities contain NaN or infinity")
        if values.min() < 0 or values.max() > 1:
            raise UserError("submission: probabilities must lie in [0, 1]")
        if schema.kind == "probabilities":
            worst = float(np.abs(values.sum(axis=1) - 1).max())
            if worst > ROW_SUM_TOLERANCE:
                raise UserError(f"submission: probability rows must sum to 1 (off by up to {worst:.3g})")
        return
    for column in schema.columns:
        if frame.schema[column] != pl.String:
            raise UserError(f"submission: column {column!r} must hold text, found {frame.schema[column]}")
        empty = int((frame[column].str.strip_chars() == "").sum())
        if empty:
            raise UserError(f"submission: column {column!r} has {empty} empty string(s)")
    if schema.kind == "map3_letters":
        for value in frame[schema.columns[0]].to_list():
            letters = value.split()
            if len(letters) != 3 or len(set(letters)) != 3 or not set(letters) <= LETTERS:
                raise UserError(f"submission: prediction {value!r} is not three distinct letters A-E")


def check_submission(competition: Competition, frame: pl.DataFrame, test: pl.DataFrame) -> pl.DataFrame:
    """Return the frame with exactly the submission columns in test order, or raise UserError."""
    schema = competition.schema.submission
    wanted = [schema.id_column, *schema.columns]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise UserError(f"submission: missing column(s) {', '.join(missing)}")
    extra = [c for c in frame.columns if c not in wanted]
    if extra:
        raise UserError(f"submission: unexpected column(s) {', '.join(extra)}")
    if schema.id_column not in test.columns:
        raise UserError(f"test file has no {schema.id_column!r} column")
    _check_ids(frame, test, schema.id_column)
    _check_values(frame, schema)
    order = test.select(pl.col(schema.id_column).cast(pl.String).alias("_key")).with_row_index("_order")
    return (frame.with_columns(pl.col(schema.id_column).cast(pl.String).alias("_key"))
            .join(order, on="_key").sort("_order").select(wanted))


FAST_FOLDER = "fast"   # a --fast run's submission, beside the full run's, never over it
NOTEBOOK_FOLDER = "kaggle-notebook"   # the Kaggle notebook bundle of a code competition's run


def notebook_dir(slug: str) -> Path:
    """submissions/<slug>/kaggle-notebook: where a code competition's notebook bundle is built."""
    return submissions_dir(slug) / NOTEBOOK_FOLDER


def submission_path(slug: str, experiment: str | None = None, fast: bool = False) -> Path:
    """submissions/<slug>/submission.csv; for a named experiment submissions/<slug>/<name>/submission.csv
    (beside the competition's own, never over it); a --fast run's in a `fast/` folder below that.

        submission_path("science-exam", "controls", fast=True)   # submissions/science-exam/controls/fast/submission.csv
    """
    return submissions_dir(slug) / (experiment or "") / (FAST_FOLDER if fast else "") / "submission.csv"


def write_submission(competition: Competition, frame: pl.DataFrame, test: pl.DataFrame,
                     path: Path | None = None, before_rename=None) -> Path:
    """Check, then write atomically; a bad frame raises UserError and writes nothing.
    before_rename(written, path): called with the complete temp file before it replaces `path`
    (the run's records are saved there); if it raises, the file at `path` stays as it was.

        write_submission(competition, frame, test, before_rename=lambda written, path: save(written))
    """
    checked = check_submission(competition, frame, test)
    path = check_output_path(path or submission_path(competition.slug), example="submission.csv")
    try:
        with atomic_path(path, suffix=".csv") as tmp:
            try:
                checked.write_csv(tmp)
            except OSError as err:
                raise UserError(f"cannot write the submission to {path}: {err.strerror or err}") from None
            if before_rename is not None:
                before_rename(tmp, path)
    except OSError as err:      # the rename into place
        raise UserError(f"cannot write the submission to {path}: {err.strerror or err}") from None
    return path
