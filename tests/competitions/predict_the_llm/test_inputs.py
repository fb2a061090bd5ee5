"""Bad predict-the-llm input is one line on stderr, exit code 2, and no submission written."""
import polars as pl
import pytest

from cli.main import main
from predict_llm_slice import write_slice


def _edit(path, fn):
    frame = pl.read_csv(path)
    fn(frame).write_csv(path)


def _row_value(column, row, value):
    return lambda f: f.with_columns(pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value))
                                    .otherwise(pl.col(column)).alias(column))


CASES = {
    "target outside 0-6": ("train.csv", _row_value("target", 4, 7), "row 5 has target 7; targets must lie in 0..6"),
    "negative target": ("train.csv", _row_value("target", 0, -1), "row 1 has target -1"),
    "missing Response column": ("train.csv", lambda f: f.drop("Response"), "missing column(s) Response"),
    "empty Question": ("test.csv", _row_value("Question", 0, ""), "row 1 has an empty Question"),
    "test id twice": ("test.csv", _row_value("id", 3, 0), "test.csv: id 0 occurs 2 times"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(case, tmp_path, capsys):
    file, edit, message = CASES[case]
    folder = write_slice(tmp_path / "data", train_questions=4, test_questions=1)
    _edit(folder / file, edit)
    out = tmp_path / "sub.csv"
    code = main(["submit", "--comp", "predict-the-llm", "--data", str(folder), "--folds", "2",
                 "--set", "members=tfidf_linear", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not (tmp_path / "results" / "runs.jsonl").exists()


def test_unknown_member_and_option_are_refused(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=4, test_questions=1)
    for option, message in (("members=tfidf_linear,gpt5", "members: unknown gpt5"), ("nope=1", "unknown predict-the-llm option")):
        code = main(["submit", "--comp", "predict-the-llm", "--data", str(folder), "--folds", "2", "--set", option])
        assert code == 2 and message in capsys.readouterr().err


def test_empty_responses_are_data_read_as_empty_text(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=4, test_questions=1)
    _edit(folder / "train.csv", lambda f: _row_value("Response", 5, None)(_row_value("Response", 2, "   ")(f)))
    _edit(folder / "test.csv", _row_value("Response", 1, None))      # Kaggle's train.csv holds null responses
    out = tmp_path / "sub.csv"
    code = main(["submit", "--comp", "predict-the-llm", "--data", str(folder), "--folds", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "note: 2 train and 1 test responses are empty: read as empty text" in printed
    sub = pl.read_csv(out)
    probs = sub.drop("id").to_numpy()
    assert sub.height == 7 and (probs > 0).all() and abs(probs.sum(axis=1) - 1).max() < 1e-4


def test_the_device_distill_set_leaves_empty_responses_out(tmp_path):
    from competitions.predict_the_llm.inputs import Pairs

    folder = write_slice(tmp_path / "data", train_questions=2, test_questions=1)
    _edit(folder / "train.csv", _row_value("Response", 3, None))
    _edit(folder / "test.csv", _row_value("Response", 0, " "))
    pairs = Pairs.from_frames(pl.read_csv(folder / "train.csv"), pl.read_csv(folder / "test.csv"))
    assert pairs.train_r[3] == "" and pairs.test_r[0] == "" and pairs.n_train == 14
    kept = pairs.without_empty_responses()
    assert kept.n_train == 13 and kept.train_r == pairs.train_r[:3] + pairs.train_r[4:]
    assert kept.y.tolist() == pairs.y[[0, 1, 2, *range(4, 14)]].tolist()
    assert kept.test_ids == pairs.test_ids[1:] and kept.test_r == pairs.test_r[1:]
    assert kept.blank_note() == "" and pairs.blank_note("dropped") == "note: 1 train and 1 test responses are empty: dropped"


def test_submit_names_the_variant_whose_test_probabilities_are_written(tmp_path, capsys):
    folder = write_slice(tmp_path / "data", train_questions=4, test_questions=1)
    base = ["submit", "--comp", "predict-the-llm", "--data", str(folder), "--folds", "2", "--set", "members=tfidf_linear"]
    assert main([*base, "--set", "submit=style_lgbm"]) == 2
    assert "submit: no variant 'style_lgbm' in this run; variants: tfidf_linear, ensemble" in capsys.readouterr().err
    assert main([*base, "--set", "assign=false", "--set", "submit=ensemble_balanced"]) == 2
    assert capsys.readouterr().err == ("error: submit: no variant 'ensemble_balanced' in this run; "
                                       "variants: tfidf_linear, ensemble\n")
    _edit(folder / "train.csv", lambda f: f.slice(1))      # a question answered 6 times: no assignment structure
    assert main([*base, "--set", "submit=ensemble_balanced", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("error: submit: ensemble_balanced did not run: ")
    assert not (tmp_path / "x.csv").exists()
    write_slice(folder, train_questions=4, test_questions=1)
    outs = {}
    for variant in ("tfidf_linear", "ensemble_balanced"):
        outs[variant] = tmp_path / f"{variant}.csv"
        assert main([*base, "--set", f"submit={variant}", "--out", str(outs[variant])]) == 0
        assert f"{variant} " in capsys.readouterr().out.split("<- submitted")[0].splitlines()[-1]
    first, second = (pl.read_csv(outs[v]).drop("id").to_numpy() for v in outs)
    assert first.shape == second.shape == (7, 7) and abs(first - second).max() > 0.01
