"""Sample builds write atomically, never overwrite the committed sample with a preview, and keep counts."""
import os

import polars as pl
import pytest

from common.errors import UserError
from common.sources.samples import (
    finish_sample, kaggle_rows, read_counts, sample_output_dir, write_table)


@pytest.fixture
def sample(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "comp" / "sample"
    folder.mkdir(parents=True)
    return folder


def test_full_build_writes_the_sample_and_a_limited_one_a_preview(sample, tmp_path):
    assert sample_output_dir(sample, "comp", None) == sample
    preview = sample_output_dir(sample, "comp", 5)
    assert preview == tmp_path / "cache" / "sample_previews" / "comp"
    assert sample_output_dir(sample, "comp", 5, tmp_path / "elsewhere") == tmp_path / "elsewhere"
    with pytest.raises(UserError, match="at least 1"):
        sample_output_dir(sample, "comp", 0)


def test_write_table_is_readable_csv_or_parquet_with_no_temp_left(sample):
    frame = pl.DataFrame({"id": [1, 2, 3], "text": ["a", "b,c", 'say "hi"']})
    assert write_table(frame, sample / "train.csv") == 3
    assert write_table(frame, sample / "corpus.parquet") == 3
    assert pl.read_csv(sample / "train.csv").equals(frame)
    assert pl.read_parquet(sample / "corpus.parquet").equals(frame)
    assert sorted(p.name for p in sample.iterdir()) == ["corpus.parquet", "train.csv"]
    assert oct(os.stat(sample / "train.csv").st_mode & 0o777) == "0o644"
    assert kaggle_rows(sample / "train.csv") == kaggle_rows(sample / "corpus.parquet") == 3


def test_finish_sample_rewrites_only_the_counts_block_of_the_datasheet(sample):
    datasheet = sample.parent / "DATASHEET.md"
    datasheet.write_text("# Sheet\n\nintro\n\n## Row counts\n\n<!-- counts: written by build() -->\n"
                         "| file | rows |\n|---|---|\n| old.csv | 1 |\n<!-- /counts -->\n\nfooter\n")
    finish_sample(sample, sample, {"train.csv": 400, "corpus.parquet": 34751})
    text = datasheet.read_text()
    assert text.startswith("# Sheet\n\nintro") and text.endswith("footer\n")
    assert read_counts(datasheet) == {"train.csv": 400, "corpus.parquet": 34751}


def test_a_preview_leaves_the_datasheet_alone(sample, tmp_path):
    datasheet = sample.parent / "DATASHEET.md"
    datasheet.write_text("untouched")
    finish_sample(sample, tmp_path / "preview", {"train.csv": 5})
    assert datasheet.read_text() == "untouched"
    assert read_counts(tmp_path / "preview" / "COUNTS.md") == {"train.csv": 5}
