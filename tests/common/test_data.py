import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from common.data import choose_folder, load_dataset
from common.errors import UserError
from common.registry import get_competition

SCIENCE = get_competition("science-exam")
ROW = {"id": [0], "prompt": ["Which is a gas?"], "A": ["air"], "B": ["rock"], "C": ["ice"], "D": ["wood"], "E": ["iron"]}


def write_science(folder, train=None, test=None):
    folder.mkdir(parents=True, exist_ok=True)
    (train if train is not None else pl.DataFrame({**ROW, "answer": ["A"]})).write_csv(folder / "train.csv")
    (test if test is not None else pl.DataFrame(ROW)).write_csv(folder / "test.csv")


def test_real_files_win_over_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path))
    assert choose_folder(SCIENCE)[0] == "sample"
    write_science(tmp_path / "science-exam")
    source, folder = choose_folder(SCIENCE)
    assert (source, folder) == ("kaggle", tmp_path / "science-exam")
    ds = load_dataset(SCIENCE)
    assert ds.tables["train"]["answer"].to_list() == ["A"]
    assert "real Kaggle files" in ds.describe()
    assert load_dataset(SCIENCE, tmp_path / "science-exam").source == "kaggle"   # --data data/<slug>


def test_wrong_columns_give_one_line(tmp_path):
    write_science(tmp_path, train=pl.DataFrame({"id": [0], "question": ["x"]}))
    with pytest.raises(UserError, match="missing column"):
        load_dataset(SCIENCE, tmp_path)


def test_non_utf8_file_gives_one_line(tmp_path):
    write_science(tmp_path)
    (tmp_path / "test.csv").write_bytes(b"id,prompt,A,B,C,D,E\n0,\xff\xfe caf\xe9,a,b,c,d,e\n")
    with pytest.raises(UserError, match=r"not UTF-8 text \(byte 0xff on line 2\)") as err:
        load_dataset(SCIENCE, tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content, line", [(b"\xff\xfe bad", 1), (b"id,prompt,A,B,C,D,E\xe9\n0,q,a,b,c,d,e\n", 1),
                                           (b"id,prompt,A,B,C,D,E\n0,q,a,b,c,d,\xc3", None)])
def test_a_bad_byte_anywhere_is_named_not_mistaken_for_an_empty_or_misnamed_file(tmp_path, content, line):
    write_science(tmp_path)
    (tmp_path / "test.csv").write_bytes(content)    # polars alone: "no rows" / "missing column E\ufffd" / read
    with pytest.raises(UserError, match=f"on line {line}\\)" if line else "ends inside a character"):
        load_dataset(SCIENCE, tmp_path)


def test_the_utf8_check_counts_lines_across_chunks(tmp_path):
    from common.data import check_utf8

    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,caf\xc3\xa9\n" * 1000)
    check_utf8(path, chunk_bytes=7)                 # a two-byte character split between chunks is fine
    path.write_bytes(path.read_bytes() + b"2,\xff\n")
    with pytest.raises(UserError, match="byte 0xff on line 1002"):
        check_utf8(path, chunk_bytes=7)
    for size in (1, 2, 3, 4):                       # a bad byte right after a character split between chunks
        path.write_bytes(b"ab\xc3\xa9\xff\nx")
        with pytest.raises(UserError, match=r"byte 0xff on line 1\)"):
            check_utf8(path, chunk_bytes=size)


def test_a_compressed_csv_is_left_to_polars(tmp_path):
    import gzip

    write_science(tmp_path)
    (tmp_path / "test.csv").write_bytes(gzip.compress((tmp_path / "test.csv").read_bytes()))
    assert load_dataset(SCIENCE, tmp_path).tables["test"]["prompt"].to_list() == ["Which is a gas?"]


def test_a_folder_given_as_a_file_is_named_as_such(tmp_path):
    from common.data import read_table

    with pytest.raises(UserError, match="is a folder, not a file"):
        read_table(tmp_path, SCIENCE.schema.tables["test"])


def test_a_header_without_rows_or_an_empty_file_gives_one_line(tmp_path):
    write_science(tmp_path)
    (tmp_path / "test.csv").write_text("id,prompt,A,B,C,D,E\n")
    with pytest.raises(UserError, match="test.csv: no rows"):
        load_dataset(SCIENCE, tmp_path)
    (tmp_path / "test.csv").write_text("")
    with pytest.raises(UserError, match="test.csv: cannot read as CSV: empty CSV"):
        load_dataset(SCIENCE, tmp_path)


@pytest.mark.parametrize("row, said", [
    ('3,"Which, of these?",a,b,c,d,e,extra,more', "test.csv: line 3 has 9 fields, the header 7 (a comma or quote"),
    ('3,"Which of these?,a,b,c,d,e', "test.csv: the quote that opens a field on line 3 is never closed"),
])
def test_a_broken_csv_row_is_named_by_its_line(tmp_path, row, said):
    write_science(tmp_path)
    lines = (tmp_path / "test.csv").read_text().splitlines()
    (tmp_path / "test.csv").write_text("\n".join(lines[:2] + [row] + lines[2:]) + "\n")
    with pytest.raises(UserError, match=re.escape(said)):
        load_dataset(SCIENCE, tmp_path)


def test_a_column_named_twice_in_the_header_is_refused(tmp_path):
    write_science(tmp_path)
    (tmp_path / "test.csv").write_text("id,prompt,A,B,C,D,E,A\n0,Which?,a,b,c,d,e,f\n")
    with pytest.raises(UserError, match="test.csv: the header names column 'A' more than once"):
        load_dataset(SCIENCE, tmp_path)


def test_a_data_folder_that_is_missing_or_a_file_says_so(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset(SCIENCE, tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file, not a folder"):
        load_dataset(SCIENCE, tmp_path / "file")


def test_missing_required_file(tmp_path):
    write_science(tmp_path)
    (tmp_path / "test.csv").unlink()
    with pytest.raises(UserError, match="missing test.csv"):
        load_dataset(SCIENCE, tmp_path)


def test_parquet_with_the_same_stem_is_accepted(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    pl.DataFrame({**ROW, "answer": ["A"]}).write_parquet(tmp_path / "train.parquet")
    pl.DataFrame(ROW).write_parquet(tmp_path / "test.parquet")
    assert load_dataset(SCIENCE, tmp_path).tables["test"].height == 1


def test_the_fingerprint_names_the_files_read(tmp_path):
    write_science(tmp_path / "a")
    write_science(tmp_path / "b")
    a, b = load_dataset(SCIENCE, tmp_path / "a"), load_dataset(SCIENCE, tmp_path / "b")
    assert len(a.fingerprint) == 12 and a.fingerprint == b.fingerprint     # same bytes, another folder
    write_science(tmp_path / "b", train=pl.DataFrame({**ROW, "answer": ["B"]}))
    assert load_dataset(SCIENCE, tmp_path / "b").fingerprint != a.fingerprint
    assert load_dataset(SCIENCE).fingerprint not in ("", a.fingerprint)    # the sample's own


def test_a_copy_of_the_sample_given_with_data_is_the_sample(tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in SCIENCE.sample_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    sample = load_dataset(SCIENCE)
    ds = load_dataset(SCIENCE, copy)
    assert (ds.source, ds.fingerprint, ds.path) == ("sample", sample.fingerprint, copy)
    (copy / "test.csv").write_bytes((SCIENCE.sample_dir / "test.csv").read_bytes() + b"\n")
    assert load_dataset(SCIENCE, copy).source == "custom"                  # one byte more: other files
    (copy / "test.csv").write_bytes((SCIENCE.sample_dir / "test.csv").read_bytes())
    assert load_dataset(SCIENCE, copy).source == "sample"
    (copy / "test.csv").write_bytes((SCIENCE.sample_dir / "test.csv").read_bytes() + b"\n")
    assert load_dataset(SCIENCE, copy).own_side_files == ()          # other tables, the sample's own corpus
    (copy / "test.csv").write_bytes((SCIENCE.sample_dir / "test.csv").read_bytes())
    corpus = pl.read_parquet(copy / "corpus.parquet")
    corpus.head(200).write_parquet(copy / "corpus.parquet")             # the retrieval corpus is data too
    other = load_dataset(SCIENCE, copy)
    assert other.source == "custom" and other.fingerprint != sample.fingerprint
    assert other.own_side_files == ("corpus.parquet",) and sample.own_side_files == ()
    (copy / "corpus.parquet").unlink()           # no corpus beside the tables: the solution reads the sample's
    assert load_dataset(SCIENCE, copy).source == "sample"


def test_a_kllm_data_without_the_competitions_folder_is_named_when_the_sample_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "science-exam"))     # one level too deep
    ds = load_dataset(SCIENCE)
    assert ds.source == "sample"
    assert ds.describe().endswith(f"; KLLM_DATA={tmp_path / 'science-exam'} holds no science-exam/ folder, so it "
                                  "was not used")
    monkeypatch.setenv("KLLM_DATA", " ")                                   # blank: the default, nothing to say
    assert "KLLM_DATA" not in load_dataset(SCIENCE).describe()


def test_a_partial_data_folder_is_named_when_the_sample_is_used_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path))
    (tmp_path / "science-exam").mkdir()
    pl.DataFrame({**ROW, "answer": ["A"]}).write_csv(tmp_path / "science-exam" / "train.csv")
    ds = load_dataset(SCIENCE)
    assert ds.source == "sample"
    assert ds.describe().endswith(f"; {tmp_path / 'science-exam'} lacks test.csv, so it was not used")
    assert "lacks" not in load_dataset(SCIENCE, SCIENCE.sample_dir).describe()
    (tmp_path / "science-exam" / "kaggle-llm-science-exam.zip").write_bytes(b"PK")   # saved, not unpacked
    assert load_dataset(SCIENCE).describe().endswith(
        "; unpack kaggle-llm-science-exam.zip with make data COMP=science-exam ZIP="
        f"{tmp_path / 'science-exam' / 'kaggle-llm-science-exam.zip'}")


def test_a_csv_with_windows_line_ends_reads_the_same_texts_as_with_unix_ones(tmp_path):
    write_science(tmp_path / "lf", test=pl.DataFrame({**ROW, "prompt": ["Which is\na gas?"]}))
    crlf = tmp_path / "crlf"
    crlf.mkdir()
    for name in ("train.csv", "test.csv"):
        (crlf / name).write_bytes((tmp_path / "lf" / name).read_bytes().replace(b"\n", b"\r\n"))
    assert b"\r\n" in (crlf / "test.csv").read_bytes()
    lf, windows = load_dataset(SCIENCE, tmp_path / "lf"), load_dataset(SCIENCE, crlf)
    for name in ("train", "test"):
        assert windows.tables[name].equals(lf.tables[name])
    assert windows.tables["test"]["prompt"].to_list() == ["Which is\na gas?"]


def test_blank_lines_in_a_csv_are_skipped_not_read_as_empty_rows(tmp_path, capsys):
    write_science(tmp_path / "plain")
    blank = tmp_path / "blank"
    blank.mkdir()
    for name in ("train.csv", "test.csv"):
        lines = (tmp_path / "plain" / name).read_text().splitlines()
        (blank / name).write_text("\n".join([lines[0], "", *lines[1:], "", "", ""]) + "\r\n\r\n")
    plain, spaced = load_dataset(SCIENCE, tmp_path / "plain"), load_dataset(SCIENCE, blank)
    for name in ("train", "test"):
        assert spaced.tables[name].equals(plain.tables[name])
    assert f"note: {blank / 'test.csv'}: skipped 5 row(s) with every field empty" in capsys.readouterr().err
    (blank / "test.csv").write_text("id,prompt,A,B,C,D,E\n\n\n")
    with pytest.raises(UserError, match="test.csv: no rows"):
        load_dataset(SCIENCE, blank)


def test_a_table_that_is_a_folder_or_a_dangling_link_is_named_not_called_missing(tmp_path):
    comp = get_competition("science-exam")
    folder = tmp_path / "data"
    shutil.copytree(comp.sample_dir, folder)
    (folder / "test.csv").unlink()
    (folder / "test.csv").mkdir()
    with pytest.raises(UserError, match=r"test\.csv is a folder, not a file"):
        load_dataset(comp, folder)
    (folder / "test.csv").rmdir()
    (folder / "test.csv").symlink_to(folder / "test.csv")            # a loop
    with pytest.raises(UserError, match=r"test\.csv is a link to .*not a readable file"):
        load_dataset(comp, folder)


def test_a_sample_submission_whose_ids_differ_from_test_is_noted_and_test_wins(tmp_path, capsys):
    comp = get_competition("prompt-recovery")
    for path in comp.sample_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    assert "ids are not in" not in load_dataset(comp, tmp_path).describe()       # Kaggle's pair agrees
    lines = (comp.sample_dir / "sample_submission.csv").read_text().splitlines()
    (tmp_path / "sample_submission.csv").write_text("\n".join(lines[:-2] + ["999,Improve this text."]) + "\n")
    ds = load_dataset(comp, tmp_path)
    said = ds.describe()                                               # the data line every run prints
    assert "2 of test's ids are not in sample_submission and 1 of sample_submission's ids are not in test" in said
    assert "(e.g. '58'): the submission follows test's rows" in said and len(ds.tables["test"]) == 60


def test_a_copy_of_the_sample_in_the_data_folder_is_the_sample_not_kaggle_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path))
    shutil.copytree(SCIENCE.sample_dir, tmp_path / "science-exam")
    ds = load_dataset(SCIENCE)
    assert ds.source == "sample" and f"{tmp_path / 'science-exam'} holds a copy of the embedded sample" in ds.describe()
    assert "holds a copy" not in load_dataset(SCIENCE, Path(os.path.relpath(SCIENCE.sample_dir))).describe()
    test = tmp_path / "science-exam" / "test.csv"
    test.write_text(test.read_text().replace("\n", "\r\n"))          # the same rows, other bytes: Kaggle's files
    assert load_dataset(SCIENCE).source == "kaggle"


def test_a_parquet_beside_a_csv_of_the_same_table_is_named_as_not_read(tmp_path):
    write_science(tmp_path / "a")
    pl.read_csv(tmp_path / "a" / "test.csv").write_parquet(tmp_path / "a" / "test.parquet")
    ds = load_dataset(SCIENCE, tmp_path / "a")
    assert ds.describe().endswith("; test.parquet is not read (test.csv is)")
    (tmp_path / "a" / "test.csv").unlink()
    assert "not read" not in load_dataset(SCIENCE, tmp_path / "a").describe()


def test_a_folders_fingerprint_from_its_files_alone_is_the_one_a_run_on_it_records(tmp_path):
    from common.data import folder_fingerprint

    copy = tmp_path / "copy"
    shutil.copytree(SCIENCE.sample_dir, copy)
    assert folder_fingerprint(SCIENCE, copy) == load_dataset(SCIENCE, copy).fingerprint \
        == folder_fingerprint(SCIENCE, SCIENCE.sample_dir)                 # names and bytes, not the folder
    pl.read_csv(copy / "train.csv").write_parquet(copy / "train.parquet")      # a twin: the CSV is read, as before
    (copy / "test.csv").write_text((copy / "test.csv").read_text() + "\n")   # another draw's bytes
    (copy / "corpus.parquet").unlink()                                        # a side file gone
    assert folder_fingerprint(SCIENCE, copy) == load_dataset(SCIENCE, copy).fingerprint
    assert folder_fingerprint(SCIENCE, copy) != folder_fingerprint(SCIENCE, SCIENCE.sample_dir)


def test_large_data_files_are_hashed_behind_a_bar_with_the_same_fingerprint(tmp_path, monkeypatch, capsys):
    import hashlib

    from common import data
    files = [tmp_path / "train.csv", tmp_path / "test.csv"]
    for i, path in enumerate(files):
        path.write_bytes(bytes(range(256)) * (20000 + i))     # 5 MB: several 4 MiB reads
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    quiet = data.files_fingerprint(files)
    assert "hashing data files" not in capsys.readouterr().err        # small files: no bar
    monkeypatch.setattr(data, "HASH_BAR_BYTES", 1)
    assert data.files_fingerprint(files) == quiet == digest.hexdigest()[:12]
    assert "hashing data files" in capsys.readouterr().err
