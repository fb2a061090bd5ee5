"""Bad input to the CLI: one line on stderr, exit code 2, no traceback, no partial file."""
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, fragment", [
    (["submit", "--comp", "titanic"], "unknown competition 'titanic'"),
    (["submit"], "required: --comp"),
    (["submit", "--comp", "science-exam", "--bogus"], "kllm submit: unrecognized arguments: --bogus"),
    (["edge", "status", "--comp", "x"], "kllm edge status: unrecognized arguments: --comp x"),   # the command's own name
    (["--bogus"], "kllm: unrecognized arguments: --bogus"),
    (["submit", "--comp", "science-exam", "--set", "novalue"], "KEY=VALUE"),
    (["bench", "nope"], "unknown benchmark"),
    (["bench", ""], "unknown benchmark ''"),
    (["edge", "--comp", "detect-ai-text", "--device", ""], "kllm edge: argument --device: empty value"),
    (["chat", "--device", " ", "--prompt", "hi"], "kllm chat: argument --device: empty value"),
    (["edge", "status", "--root", ""], "argument --root: empty value"),
    (["score", "--comp", "science-exam", "--pred", "/nonexistent.csv", "--truth", "/nonexistent.csv"], "missing file"),
    (["nonsense-command"], "invalid choice"),
    (["leaderboard", "--compar", "a", "b"], "kllm leaderboard: unrecognized arguments: --compar"),  # no abbreviations
    (["submit", "--co", "science-exam"], "kllm submit: unrecognized arguments: --co "),   # the typo, not "--comp required"
    (["submit", "--co=science-exam"], "unrecognized arguments: --co=science-exam"),
    (["score", "--truth", "-x y"], "the following arguments are required: --comp"),   # "-x y" is --truth's value
    (["leaderboard", "--png", "chart.pdf"], "give a path ending in .png"),
    (["submit", "--comp", "science-exam", "--seed", "-1"], "seed -1 is out of range"),
    (["submit", "--comp", "science-exam", "--seed", "4294967296"], "out of range"),
    (["submit", "--comp", "science-exam", "--seed", "x"], "invalid seed 'x'"),
    (["submit", "--comp", "adversarial-judge", "--folds", "3"], "adversarial-judge has no folds"),
    (["submit", "--comp", "science-exam", "--out", ""], "empty path"),
    (["submit", "--comp", "science-exam", "--exp", "../../predict_the_llm/experiments/x"], "no experiment"),
    (["score", "--comp", "science-exam", "--pred", ""], "empty path"),
])
def test_bad_input_is_one_line_and_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_data_folder_leaves_no_submission(tmp_path, capsys):
    out = tmp_path / "sub" / "submission.csv"
    code = main(["submit", "--comp", "science-exam", "--data", str(tmp_path / "nowhere"), "--out", str(out)])
    assert code == 2
    assert "missing" in capsys.readouterr().err
    assert not out.exists()


def test_malformed_csv_for_score(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("id,prediction\n0,A B C\n")
    truth = tmp_path / "truth.csv"
    truth.write_text("identifier,label\n0,A\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--truth", str(truth)]) == 2
    assert "missing column" in capsys.readouterr().err


@pytest.mark.parametrize("comp, pred, truth, fragment", [
    ("science-exam", "id,prediction\n0,A B C\n1,C B A\n", "id,answer\n0,A\n1,\n", "truth file: 1 row(s) without answer"),
    ("detect-ai-text", "id,generated\na,0.2\nb,0.9\nc,0.5\n", "id,generated\na,0\nb,1\nc,\n",
     "truth file: 1 row(s) without generated (the first: id 'c')"),
    ("detect-ai-text", "id,generated\na,0.2\nb,0.9\nc,0.5\n", "id,generated\na,0\nb,1\nc,2\n",
     "roc_auc: the labels must be 0 or 1, got 2"),
    ("detect-ai-text", "id,generated\na,0.2\nb,\nc,0.5\n", "id,generated\na,0\nb,1\nc,1\n",
     "prediction file: 1 row(s) without generated"),
])
def test_bad_truth_or_prediction_values_are_one_line(comp, pred, truth, fragment, tmp_path, capsys):
    (tmp_path / "pred.csv").write_text(pred)
    (tmp_path / "truth.csv").write_text(truth)
    assert main(["score", "--comp", comp, "--pred", str(tmp_path / "pred.csv"), "--truth", str(tmp_path / "truth.csv")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_a_pipe_as_input_is_refused_not_waited_on(tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "pred.csv")                    # nobody writes to it: opening it would block
    (tmp_path / "truth.csv").write_text("id,answer\n0,A\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(tmp_path / "pred.csv"),
                 "--truth", str(tmp_path / "truth.csv")]) == 2
    assert "is not a regular file" in capsys.readouterr().err


def test_score_prints_the_metric(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("id,prediction\n0,A B C\n1,C B A\n")
    truth = tmp_path / "truth.csv"
    truth.write_text("id,answer\n0,A\n1,B\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--truth", str(truth)]) == 0
    assert "map@3 = 0.75000" in capsys.readouterr().out


def test_python_dash_m_and_help_work():
    done = subprocess.run([sys.executable, "-m", "cli", "submit", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "--comp" in done.stdout


def test_an_unforeseen_file_system_error_is_one_line(monkeypatch, capsys):
    import cli.commands.leaderboard as leaderboard

    def refuse(args):
        raise PermissionError(13, "Permission denied", "/results/runs.jsonl")

    monkeypatch.setattr(leaderboard, "run", refuse)
    assert main(["leaderboard"]) == 1
    assert capsys.readouterr().err == "error: Permission denied: /results/runs.jsonl (KLLM_DEBUG=1 shows where)\n"
    monkeypatch.setenv("KLLM_DEBUG", "1")
    with pytest.raises(PermissionError):
        main(["leaderboard"])
    monkeypatch.setenv("KLLM_DEBUG", " True ")                  # as people write a switch
    with pytest.raises(PermissionError):
        main(["leaderboard"])


@pytest.mark.parametrize("name", ["KLLM_DEBUG", "KLLM_ALLOW_HUB"])
def test_a_switch_that_is_neither_on_nor_off_is_one_line_before_any_work(name, monkeypatch, capsys):
    import cli.commands.leaderboard as leaderboard

    monkeypatch.setattr(leaderboard, "run", lambda args: pytest.fail("the command ran"))
    monkeypatch.setenv(name, "ture")
    assert main(["leaderboard"]) == 2
    assert capsys.readouterr().err == f"error: {name}='ture' is neither on nor off: set it to 1 (or true, yes, on) or 0 (or leave it unset)\n"


def test_sigterm_unwinds_the_command_so_nothing_staged_is_left(monkeypatch, tmp_path, capsys):
    import os
    import signal
    import time

    from common.registry import Competition

    def half_then_terminated(**kwargs):
        (kwargs["out_dir"] / "train.csv").write_text("new\n")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)                      # the handler raises before this ends
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr(Competition, "load_entry", lambda self, attr: half_then_terminated)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["dataset", "--comp", "science-exam", "--out", str(tmp_path / "out")]) == 143
    assert capsys.readouterr().err == "error: terminated\n"
    assert list(tmp_path.iterdir()) == []                      # the staged draw was removed
    assert signal.getsignal(signal.SIGTERM) is before          # the caller's handler is back


def test_an_interrupted_progress_bar_is_closed_before_the_error_line(monkeypatch, capsys):
    from tqdm.auto import tqdm

    from common.registry import Competition

    def interrupted(**kwargs):
        bar = tqdm(total=10, desc="drawing")        # updated by hand, as common/llm/cache.py does
        bar.update(3)
        raise KeyboardInterrupt

    monkeypatch.setattr(Competition, "load_entry", lambda self, attr: interrupted)
    assert main(["dataset", "--comp", "science-exam", "--limit", "3"]) == 130
    err = capsys.readouterr().err
    assert err.endswith("error: interrupted\n") and "drawing" in err
    from tqdm.std import tqdm as std_tqdm

    assert not std_tqdm._instances                    # none left to be drawn again when collected at exit


def test_sigterm_is_not_taken_for_an_error_by_a_broad_except(monkeypatch, capsys):
    import os
    import signal
    import time

    from common.registry import Competition

    def careless(**kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except Exception:                          # as model loaders and the Kaggle client have
            raise AssertionError("SIGTERM was caught as an error") from None

    monkeypatch.setattr(Competition, "load_entry", lambda self, attr: careless)
    assert main(["dataset", "--comp", "science-exam", "--limit", "3"]) == 143
    assert capsys.readouterr().err == "error: terminated\n"


def test_a_user_error_closes_the_open_progress_bars_first(monkeypatch, capsys):
    from tqdm.auto import tqdm
    from tqdm.std import tqdm as std_tqdm

    from common.errors import UserError
    from common.registry import Competition

    def refused(**kwargs):
        tqdm(total=10, desc="drawing").update(3)
        raise UserError("something in row 3 is wrong")

    monkeypatch.setattr(Competition, "load_entry", lambda self, attr: refused)
    assert main(["dataset", "--comp", "science-exam", "--limit", "3"]) == 2
    err = capsys.readouterr().err
    assert err.endswith("\nerror: something in row 3 is wrong\n") and not std_tqdm._instances


def test_a_kllm_root_that_is_not_this_repository_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KLLM_ROOT", str(tmp_path))
    assert main(["leaderboard"]) == 2
    assert capsys.readouterr().err == (f"error: KLLM_ROOT={tmp_path} is not a checkout of this repository (no "
                                       "competitions/ and pyproject.toml there): it names the repository itself; "
                                       "to move outputs, set KLLM_CACHE, KLLM_RESULTS or KLLM_SUBMISSIONS\n")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("KLLM_ROOT")                  # unset: wherever the code is installed, no check
    monkeypatch.setattr("common.paths._REPO", tmp_path)
    assert main(["leaderboard", "--png", str(tmp_path / "board.png")]) == 0
