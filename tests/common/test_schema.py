"""common/schema.py: a table's columns and kinds checked in one line each."""
import math

import polars as pl
import pytest

from common.errors import UserError
from common.schema import FLOAT, ID, INT, STR, TableSchema

SUB = TableSchema("submission.csv", {"id": STR, "generated": FLOAT})


def test_a_float_column_read_as_text_for_nan_or_inf_is_a_float_column():
    frame = SUB.check(pl.DataFrame({"id": ["a", "b", "c"], "generated": ["0.5", "nan", "inf"]}))
    values = frame["generated"].to_list()
    assert frame.schema["generated"] == pl.Float64 and values[0] == 0.5 and math.isnan(values[1]) and values[2] == math.inf


def test_text_that_is_no_number_names_its_row():
    with pytest.raises(UserError, match=r"column 'generated' should be float; row 2 after the header holds 'abc'"):
        SUB.check(pl.DataFrame({"id": ["a", "b"], "generated": ["0.5", "abc"]}))
    with pytest.raises(UserError, match=r"holds 'x{57}\.\.\.'$"):                     # an essay in the wrong column
        SUB.check(pl.DataFrame({"id": ["a"], "generated": ["x" * 5000]}))


def test_missing_and_mistyped_columns_are_one_line():
    with pytest.raises(UserError, match="missing column"):
        SUB.check(pl.DataFrame({"id": ["a"]}))
    with pytest.raises(UserError, match="column 'n' should be int, found String"):
        TableSchema("t.csv", {"n": INT}).check(pl.DataFrame({"n": ["x"]}))


def test_whole_numbers_saved_as_floats_are_an_int_column_and_others_name_their_row():
    ids = TableSchema("t.csv", {"id": INT})
    frame = ids.check(pl.DataFrame({"id": [0.0, 7.0, None]}))          # a column pandas wrote through a NaN
    assert frame.schema["id"] == pl.Int64 and frame["id"].to_list() == [0, 7, None]
    for bad, shown in ((2.5, "2.5"), (math.nan, "nan"), (1e30, "1e\\+30")):
        with pytest.raises(UserError, match=f"column 'id' should be int; row 2 after the header holds {shown}$"):
            ids.check(pl.DataFrame({"id": [0.0, bad]}))


def test_an_id_column_keeps_the_files_text_and_takes_a_parquets_integers():
    table = TableSchema("test.csv", {"id": ID})
    assert table.polars_overrides() == {"id": pl.String}                     # "0007" and "000aaa" read as written
    assert table.check(pl.DataFrame({"id": ["0007", "000aaa", "-1"]}))["id"].to_list() == ["0007", "000aaa", "-1"]
    assert table.check(pl.DataFrame({"id": [7, -1]}))["id"].to_list() == ["7", "-1"]
    assert table.check(pl.DataFrame({"id": [7.0, -1.0]}))["id"].to_list() == ["7", "-1"]   # saved through floats
    with pytest.raises(UserError, match="column 'id' should be an id \\(text or whole numbers\\); row 1 after"):
        table.check(pl.DataFrame({"id": [0.5]}))
    with pytest.raises(UserError, match="column 'id' should be an id \\(text or whole numbers\\), found Boolean"):
        table.check(pl.DataFrame({"id": [True]}))


def test_every_competitions_row_ids_are_id_columns():
    import competitions  # noqa: F401  (fills the registry)
    from common.registry import all_competitions

    kinds = {(c.slug, t.filename): t.columns["id"] for c in all_competitions() for t in c.schema.tables.values()
             if "id" in t.columns}
    assert kinds and set(kinds.values()) == {ID}, kinds                       # an int id would drop "0007"'s zeros
