"""Extra training rows: the option's file (and its cached copy, which is all Kaggle has), a file
beside the data, reading, and which rows are new."""
import pytest

from common.errors import UserError
from common.extra_rows import cached_copy, exact, extra_rows_path, new_rows, read_rows, trained_on


def test_the_path_is_the_option_or_its_cached_copy_else_a_file_beside_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    assert extra_rows_path("", tmp_path, "demo") is None
    with pytest.raises(UserError, match="no such file"):
        extra_rows_path(str(tmp_path / "none.csv"), tmp_path, "demo")
    with pytest.raises(UserError, match=f"extra_train: {tmp_path} is a folder, not a file"):
        extra_rows_path(str(tmp_path), tmp_path, "demo")
    (tmp_path / "train_extra.parquet").write_bytes(b"")
    assert extra_rows_path("", tmp_path, "demo") == tmp_path / "train_extra.parquet"
    mine = tmp_path / "mine.csv"
    mine.write_text("text,label\nx,1\n")
    assert extra_rows_path(str(mine), tmp_path, "demo") == mine
    copy = tmp_path / "cache" / "demo" / "extra_train" / "mine.csv"
    assert cached_copy(str(mine), "demo") == copy and copy.read_text() == "text,label\nx,1\n"
    mine.write_text("text,label\ny,0\n")
    extra_rows_path(str(mine), tmp_path, "demo")
    assert copy.read_text() == "text,label\ny,0\n"            # a changed file replaces the copy
    mine.unlink()                                             # as on Kaggle: only the bundle's copy is there
    assert extra_rows_path(str(mine), tmp_path, "demo") == copy


def test_reading_keeps_csv_columns_as_text_and_refuses_empty_or_unreadable_files(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("text,label\n007,1\n")
    assert read_rows(path).to_dicts() == [{"text": "007", "label": "1"}]
    for body, message in ((b"text,label\n", "no rows"), (b"text,label\n\xff\xfe,1\n", "not UTF-8 text"),
                          (b"te\xffxt,label\n", "byte 0xff on line 1")):
        path.write_bytes(body)
        with pytest.raises(UserError, match=message) as err:
            read_rows(path)
        assert "\n" not in str(err.value)


def test_new_rows_skips_keys_seen_before_or_repeated():
    assert new_rows(["a", " b ", "c", "b", "d"], seen=["a ", "z"]) == [1, 2, 4]


def test_a_file_whose_every_row_repeats_train_is_not_recorded_as_trained_on():
    assert trained_on(None) == ""
    assert trained_on({"path": "daigt.csv", "rows": 0, "repeats_dropped": 12}) == ""    # ranks with train alone
    assert trained_on({"path": "daigt.csv", "rows": 3, "repeats_dropped": 0}) == "daigt.csv"


def test_a_copy_differing_in_case_or_line_breaks_is_a_repeat_unless_the_key_is_exact():
    essay = "Dear Senator,\nCars are  useful. H₂O"          # a double space, a line break, a subscript
    copies = ["dear senator, cars are useful. H₂O", "DEAR SENATOR,\r\n\r\nCars are useful. H₂O", "Dear Senator, Cars are useful. H2O"]
    assert new_rows(copies, seen=[essay]) == [2]                     # H2O is not H₂O
    assert new_rows(copies, seen=[essay], key=exact) == [0, 1, 2]    # prompt-recovery: case is a rewrite
