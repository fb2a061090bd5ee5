"""Checked table columns: blank texts, missing columns, null and repeated ids are one-line errors."""
import polars as pl
import pytest

from common.columns import text_column, unique_ids
from common.errors import UserError


def test_text_column_and_unique_ids():
    frame = pl.DataFrame({"id": [3, 1, 2], "text": ["a", "b", "c"]})
    assert text_column(frame, "text", "t.csv") == ["a", "b", "c"] and unique_ids(frame, "t.csv") == [3, 1, 2]
    for bad, message in ((frame.with_columns(pl.Series("text", ["a", "  ", "c"])), "t.csv: row 2 has an empty text"),
                         (frame.with_columns(pl.Series("text", ["a", None, "c"])), "row 2 has an empty text"),
                         (frame.drop("text"), "t.csv: no text column")):
        with pytest.raises(UserError, match=message):
            text_column(bad, "text", "t.csv")
    blanks = frame.with_columns(pl.Series("text", ["a", None, " "]))
    assert text_column(blanks, "text", "t.csv", blank_ok=True) == ["a", "", ""]
    with pytest.raises(UserError, match="t.csv: no nope column"):
        text_column(blanks, "nope", "t.csv", blank_ok=True)
    with pytest.raises(UserError, match="id 1 occurs 2 times"):
        unique_ids(pl.DataFrame({"id": [1, 1, 2]}), "t.csv")
    with pytest.raises(UserError, match="1 row"):
        unique_ids(pl.DataFrame({"id": [1, None]}), "t.csv")
