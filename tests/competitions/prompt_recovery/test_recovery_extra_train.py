"""More rewrites beside train.csv (the real competition's train.csv is one example row): read,
checked, de-duplicated against train, and used by `kllm submit`."""
import json

import polars as pl
import pytest

from cli.main import main
from common.errors import UserError
from common.paths import results_path
from common.registry import get_competition
from competitions.prompt_recovery.extra_train import train_with_extra
from recovery_slice import TRAIN_COLUMNS, write_slice

FAST = ["--set", "beam_steps=2", "--set", "beam_pool=8", "--set", "vocab_tokens=50"]


def sample_train(rows: int) -> pl.DataFrame:
    return pl.read_csv(get_competition("prompt-recovery").sample_dir / "train.csv").head(rows).select(TRAIN_COLUMNS)


def test_rows_are_appended_with_ids_of_their_own_and_known_pairs_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    train, more = sample_train(3), sample_train(8)
    assert train_with_extra(train, "", tmp_path) == (train, None)
    more.drop("id").write_parquet(tmp_path / "train_extra.parquet")       # its first 3 rows are train's
    combined, info = train_with_extra(train, "", tmp_path)
    assert combined.height == 8 and info["rows"] == 5 and info["repeats_dropped"] == 3
    assert combined["id"].to_list() == [str(i) for i in train["id"]] + [f"extra-{i}" for i in range(5)]   # ids of their own
    assert combined["rewrite_prompt"].to_list()[3:] == more["rewrite_prompt"].to_list()[3:]


@pytest.mark.parametrize("body, message", [
    ("original_text,rewritten_text\na,b\n", "missing rewrite_prompt"),
    ("original_text,rewrite_prompt,rewritten_text\na,,b\n", "row 1 has an empty rewrite_prompt"),
    ("original_text,rewrite_prompt,rewritten_text\n", "no rows")])
def test_a_bad_file_is_one_line(body, message, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    (tmp_path / "more.csv").write_text(body)
    with pytest.raises(UserError, match=message) as err:
        train_with_extra(sample_train(2), str(tmp_path / "more.csv"), tmp_path)
    assert "\n" not in str(err.value)


def test_submit_on_a_one_row_train_says_what_to_add_then_trains_with_the_extra_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    folder = write_slice(tmp_path / "data", train_rows=1, test_rows=4)
    argv = ["submit", "--comp", "prompt-recovery", "--data", str(folder), "--folds", "2", *FAST,
            "--out", str(tmp_path / "sub.csv")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "only 1 training rows" in captured.err and "extra_train=FILE" in captured.err
    assert captured.out == "" and not (tmp_path / "sub.csv").exists()      # refused before any work

    sample_train(30).drop("id").write_csv(tmp_path / "gemma_rewrites.csv")
    assert main(argv + ["--set", f"extra_train={tmp_path / 'gemma_rewrites.csv'}"]) == 0
    assert "extra_train: 29 rewrites" in capsys.readouterr().out and pl.read_csv(tmp_path / "sub.csv").height == 4
    record = json.loads(results_path().read_text().splitlines()[-1])
    assert record["extra"]["extra_train"]["rows"] == 29 and record["extra"]["extra_train"]["repeats_dropped"] == 1
    assert record["data_source"] == "custom+extra"
    assert record["extra"]["model_files"] == [str(tmp_path / "cache" / "prompt_recovery" / "extra_train" /
                                                   "gemma_rewrites.csv")]


def test_a_rewrite_that_differs_only_in_case_or_line_breaks_is_a_new_row(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    train = sample_train(2)
    original = train["original_text"][0]
    rewrites = ["HELLO THERE, MY FRIEND.", "hello there, my friend.", "Hello\nthere,\nmy\nfriend."]
    pl.DataFrame({"original_text": [original] * 3, "rewrite_prompt": ["Shout it", "Whisper it", "One word a line"],
                  "rewritten_text": rewrites}).write_csv(tmp_path / "train_extra.csv")
    combined, info = train_with_extra(train, "", tmp_path)
    assert info["rows"] == 3 and info["repeats_dropped"] == 0
