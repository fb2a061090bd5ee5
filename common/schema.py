"""File schemas: which columns each Kaggle file has, and of which kind.

    TableSchema("train.csv", {"id": ID, "prompt": STR, "answer": STR})   # ID: a row id, kept as text

Kinds are deliberately few: what a Kaggle CSV can hold and what a check needs to know.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from common.errors import UserError

INT = "int"
FLOAT = "float"
STR = "str"
ID = "id"       # a row id: kept as the text the file holds ("0007", "000aaa", "-1"); whole numbers in a Parquet file become text

_POLARS_KINDS = {
    INT: (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64),
    FLOAT: (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64),
    STR: (pl.String,),
    ID: (pl.String,),
}

_WORDS = {ID: "an id (text or whole numbers)"}


def _as_float(column: pl.Series, what: str) -> pl.Series:
    """The text column as Float64 ("nan", "inf" included: the submission checks refuse those by name),
    or UserError naming the first row that is no number."""
    floats = column.cast(pl.Float64, strict=False)
    bad = floats.is_null() & column.is_not_null()
    if bad.any():
        row = int(bad.arg_max())
        value = column[row] if len(column[row]) <= 60 else column[row][:57] + "..."
        raise UserError(f"{what}; row {row + 1} after the header holds {value!r}")
    return floats


def _whole(column: pl.Series, what: str) -> pl.Series:
    """A float column whose values are all whole numbers (or blank) as Int64, or UserError naming
    the first row that is not."""
    fits = column.is_finite() & (column == column.floor()) & (column.abs() < 2.0 ** 63)
    bad = column.is_not_null() & ~fits.fill_null(False)
    if bad.any():
        row = int(bad.arg_max())
        raise UserError(f"{what}; row {row + 1} after the header holds {column[row]!r}")
    return column.cast(pl.Int64)


@dataclass(frozen=True)
class TableSchema:
    """One file of a competition: its name and its required columns with their kinds."""

    filename: str
    columns: dict[str, str]
    required: bool = True

    def check(self, frame: pl.DataFrame, where: str = "") -> pl.DataFrame:
        """Raise UserError naming the first missing or mistyped column; return the frame."""
        where = where or self.filename
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise UserError(f"{where}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
        for name, kind in self.columns.items():
            dtype = frame.schema[name]
            if kind == FLOAT and dtype == pl.String:      # "nan" or "inf" in a column: a float column all the same
                frame = frame.with_columns(_as_float(frame[name], f"{where}: column {name!r} should be {kind}"))
            elif kind == ID and dtype in _POLARS_KINDS[INT]:          # a Parquet file's integer ids
                frame = frame.with_columns(frame[name].cast(pl.String))
            elif kind == ID and dtype in (pl.Float32, pl.Float64):   # 7.0: integer ids saved through a float column
                frame = frame.with_columns(_whole(frame[name], f"{where}: column {name!r} should be "
                                                  f"{_WORDS[ID]}").cast(pl.String))
            elif kind == INT and dtype in (pl.Float32, pl.Float64):   # 2.0: a file saved through a float column
                frame = frame.with_columns(_whole(frame[name], f"{where}: column {name!r} should be {kind}"))
            elif not isinstance(dtype, _POLARS_KINDS[kind]) and dtype not in _POLARS_KINDS[kind]:
                raise UserError(f"{where}: column {name!r} should be {_WORDS.get(kind, kind)}, found {dtype}")
        return frame

    def polars_overrides(self) -> dict:
        """dtypes to force when reading the CSV, so ids like '0001' stay strings."""
        return {name: pl.String for name, kind in self.columns.items() if kind in (STR, ID)}


SUBMISSION_KINDS = ("map3_letters", "probability", "probabilities", "text")


@dataclass(frozen=True)
class SubmissionSchema:
    """What a submission must look like.

    kind is one of:
      "map3_letters": one column of three distinct letters A-E separated by spaces
      "probability":  one float column in [0, 1]
      "probabilities": several float columns in [0, 1] whose rows sum to 1
      "text":         one non-empty string column
    A new kind is its name in SUBMISSION_KINDS and a branch in common.submission._check_values
    that returns before the text checks (as the probability kinds' does).
    """

    id_column: str
    columns: tuple[str, ...]
    kind: str

    def __post_init__(self):
        if self.kind not in SUBMISSION_KINDS:
            raise ValueError(f"unknown submission kind {self.kind!r}; known: {', '.join(SUBMISSION_KINDS)}")
        if self.kind != "probabilities" and len(self.columns) != 1:
            raise ValueError(f"a {self.kind!r} submission has one column besides the id, not {len(self.columns)}")


@dataclass(frozen=True)
class CompetitionSchema:
    """All files of one competition. `tables` maps a short name (train, test, ...) to its schema;
    the id column is the submission's (`submission.id_column`), which test must hold too."""

    tables: dict[str, TableSchema]
    submission: SubmissionSchema
    target: tuple[str, ...] = field(default_factory=tuple)
