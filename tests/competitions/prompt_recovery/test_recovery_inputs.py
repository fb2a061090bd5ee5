"""Bad prompt-recovery input is one line on stderr, exit code 2, and nothing written (a check
that needs the metric encoder's tokenizer comes after its load bar)."""
import polars as pl
import pytest

from cli.main import main
from recovery_slice import write_slice

LONG_PROMPT = "Rewrite this text " + "very " * 300 + "carefully."


def _edit(path, fn):
    fn(pl.read_csv(path)).write_csv(path)


def _row_value(column, row, value):
    return lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value))
                                    .otherwise(pl.col(column)).alias(column))


CASES = {
    "empty original text": ("train.csv", _row_value("original_text", 2, "   "), "row 3 has an empty original_text"),
    "null rewritten text in test": ("test.csv", _row_value("rewritten_text", 1, None), "row 2 has an empty rewritten_text"),
    "empty rewritten text": ("train.csv", _row_value("rewritten_text", 0, ""), "row 1 has an empty rewritten_text"),
    "missing rewrite_prompt column": ("train.csv", lambda f: f.drop("rewrite_prompt"), "missing column(s) rewrite_prompt"),
    "missing original_text in test": ("test.csv", lambda f: f.drop("original_text"), "missing column(s) original_text"),
    "prompt over the encoder limit": ("train.csv", _row_value("rewrite_prompt", 4, LONG_PROMPT),
                                      "row 5 has a rewrite_prompt of 308 tokens; the metric encoder minilm reads at most 256"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    file, edit, message = CASES[case]
    folder = write_slice(tmp_path / "data", train_rows=12, test_rows=2)
    _edit(folder / file, edit)
    out = tmp_path / "sub.csv"
    code = main(["submit", "--comp", "prompt-recovery", "--data", str(folder), "--folds", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.strip().splitlines() if "Loading weights" not in line]   # the model's load bar
    assert message in err and len(lines) == 1
    assert not out.exists()
    assert not (tmp_path / "results" / "runs.jsonl").exists()


def test_bad_options_are_refused(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_rows=12, test_rows=2)
    for option, message in (("members=nearest_prompt,gpt5", "members: unknown gpt5"),
                            ("nope=1", "unknown prompt-recovery option"),
                            ("max_prompt_tokens=256", "max_prompt_tokens=256 must stay below minilm's limit of 256"),
                            ("lora_folds=1", "lora_folds must be 0"),
                            ("submit=lm_lora", "submit: no variant 'lm_lora' in this run")):
        code = main(["submit", "--comp", "prompt-recovery", "--data", str(folder), "--folds", "2", "--set", option])
        assert code == 2 and message in capsys.readouterr().err
