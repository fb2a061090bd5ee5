"""`kllm submit`'s flags do what they say: --folds is honoured exactly or refused in one line
before any work, --set keys are checked for every competition, --exp loads a named experiment."""
import json

import pytest

import competitions  # noqa: F401  (fills the registry)
from cli.main import main
from common.registry import all_competitions

SOLVED = [c.slug for c in all_competitions() if c.solution and c.slug in ("science-exam", "detect-ai-text")]


@pytest.mark.parametrize("slug", SOLVED)
@pytest.mark.parametrize("folds, fragment", [("1", "at least 2"), ("0", "at least 2"), ("10000", "--folds 10000")])
def test_impossible_fold_counts_are_one_line_and_exit_2(slug, folds, fragment, capsys):
    assert main(["submit", "--comp", slug, "--folds", folds]) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""          # refused before anything else was printed or run


@pytest.mark.parametrize("slug", [c.slug for c in all_competitions()])
def test_unknown_set_keys_are_refused_naming_the_known_ones_before_the_data_is_read(slug, capsys):
    assert main(["submit", "--comp", slug, "--set", "no_such_option=1"]) == 2
    captured = capsys.readouterr()
    assert "unknown" in captured.err and "no_such_option" in captured.err and "known:" in captured.err
    assert captured.out == ""                  # no "data: ..." line: refused first


def test_unknown_experiment_names_the_known_ones(capsys):
    assert main(["submit", "--comp", "science-exam", "--exp", "nope"]) == 2
    assert "known: " in capsys.readouterr().err
    for command in ("submit", "edge"):       # make's EXP= given empty: refused, never the default run
        assert main([command, "--comp", "detect-ai-text", "--exp", ""]) == 2
        captured = capsys.readouterr()
        assert captured.err == "error: detect-ai-text: no experiment ''; known: tfidf_only\n", command
        assert "data:" not in captured.out


def test_folds_seed_and_experiment_reach_the_solution_and_the_store(tmp_path, monkeypatch, capsys):
    from fakes.essays import write_essays

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    monkeypatch.setenv("KLLM_THREADS", "1")
    monkeypatch.setenv("KLLM_AUTHOR", " Ada Lovelace ")
    folder = write_essays(tmp_path / "data", n_train=48, n_test=10)
    code = main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--folds", "4",
                 "--exp", "tfidf_only", "--set", "heldout=0", "--seed", "7", "--out", str(tmp_path / "sub.csv")])
    assert code == 0
    out = capsys.readouterr().out
    assert "experiment tfidf_only" in out and "4 folds, stratified by generated" in out
    runs = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert {r["variant"] for r in runs} == {"tfidf_only/tfidf_linear", "tfidf_only/tfidf_lgbm", "tfidf_only/ensemble"}
    assert all(r["folds"] == 4 and r["extra"]["experiment"] == "tfidf_only" and r["extra"]["fast"] is False for r in runs)
    assert {r["seed"] for r in runs} == {7}                         # the seed given, recorded
    assert {r["extra"]["threads"] for r in runs} == {1}             # KLLM_THREADS: a trained member may depend on it
    assert {r["author"] for r in runs} == {"Ada Lovelace"}          # whose runs, on a team's leaderboard
    assert runs[0]["extra"]["options"] == {"members": "tfidf_linear,tfidf_lgbm", "heldout": "0"}
    from common.data import load_dataset
    from common.registry import get_competition

    assert {r["data_id"] for r in runs} == {load_dataset(get_competition("detect-ai-text"), folder).fingerprint}
    from common.data import file_sha256

    written = tmp_path / "sub.csv"                                  # what --kaggle --resend would send again
    assert {(r["extra"]["submission_path"], r["extra"]["submission_sha256"]) for r in runs} == {
        (str(written.resolve()), file_sha256(written))}
    assert {r["extra"]["data_path"] for r in runs} == {str(folder.resolve())}   # what `kllm score` names


def test_a_named_experiment_writes_its_own_submission_beside_the_main_one(tmp_path, monkeypatch, capsys):
    from fakes.essays import write_essays

    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    monkeypatch.setenv("KLLM_SUBMISSIONS", str(tmp_path / "submissions"))
    main_file = tmp_path / "submissions" / "detect-ai-text" / "submission.csv"
    main_file.parent.mkdir(parents=True)
    main_file.write_text("id,generated\nkept,0.5\n")
    folder = write_essays(tmp_path / "data", n_train=48, n_test=10)
    assert main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--folds", "3",
                 "--exp", "tfidf_only", "--set", "heldout=0"]) == 0
    exp_file = tmp_path / "submissions" / "detect-ai-text" / "tfidf_only" / "submission.csv"
    assert f"submission: {exp_file}" in capsys.readouterr().out
    assert exp_file.read_text().count("\n") == 11 and main_file.read_text() == "id,generated\nkept,0.5\n"
    assert main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--fast", "--set", "heldout=0",
                 "--set", "members=tfidf_linear"]) == 0                     # a quick check: its own folder too
    fast_file = tmp_path / "submissions" / "detect-ai-text" / "fast" / "submission.csv"
    assert f"submission: {fast_file}" in capsys.readouterr().out
    assert fast_file.read_text().count("\n") == 11 and main_file.read_text() == "id,generated\nkept,0.5\n"


@pytest.mark.parametrize("out, message", [("folder", "is a folder"), ("file/below.csv", "is a file, not a folder"),
                                          ("file/deeper/below.csv", "is a file, not a folder")])
def test_an_unwritable_out_is_one_line_before_any_work_and_creates_nothing(out, message, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("a file, not a folder")
    assert main(["submit", "--comp", "prompt-recovery", "--out", str(tmp_path / out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"] and not any((tmp_path / "folder").iterdir())


def test_an_out_under_missing_folders_gets_them_when_the_submission_is_written(tmp_path, monkeypatch, capsys):
    from fakes.essays import write_essays

    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    folder = write_essays(tmp_path / "data", n_train=48, n_test=10)
    target = tmp_path / "new" / "deeper" / "sub.csv"
    assert main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--folds", "3",
                 "--exp", "tfidf_only", "--set", "heldout=0", "--out", str(target)]) == 0
    assert f"submission: {target}" in capsys.readouterr().out
    assert target.read_text().startswith("id,generated\n") and target.read_text().count("\n") == 11
    assert [p.name for p in target.parent.iterdir()] == ["sub.csv"]          # no temp file left beside it


def test_kaggle_without_credentials_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle"))
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    assert main(["submit", "--comp", "prompt-recovery", "--kaggle", "--out", str(tmp_path / "s.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "no Kaggle credentials" in captured.err and "KAGGLE_API_TOKEN" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_kaggle_with_a_bad_wait_setting_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "0" * 32)
    monkeypatch.setenv("KLLM_KAGGLE_WAIT_S", "-5")
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    assert main(["submit", "--comp", "prompt-recovery", "--kaggle", "--out", str(tmp_path / "s.csv")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ("error: KLLM_KAGGLE_WAIT_S should be a positive number of "
                                                   "seconds, got '-5'\n")
    assert list(tmp_path.iterdir()) == []


def test_data_too_small_for_the_default_folds_names_the_default_not_a_flag_never_given(tmp_path, capsys):
    from fakes.essays import write_essays

    folder = write_essays(tmp_path / "data", n_train=4, n_test=2)
    assert main(["submit", "--comp", "detect-ai-text", "--data", str(folder), "--set", "heldout=0"]) == 2
    err = capsys.readouterr().err
    assert "folds (the default; --folds N for fewer)" in err and "--folds 5:" not in err and err.count("\n") == 1


@pytest.mark.parametrize("slug", ["science-exam", "detect-ai-text", "predict-the-llm", "prompt-recovery",
                                  "adversarial-judge"])
def test_a_repeated_test_id_is_refused_before_the_solution_runs(slug, tmp_path, monkeypatch, capsys):
    import shutil

    import polars as pl

    import cli.commands.submit as submit
    from common.registry import get_competition

    competition = get_competition(slug)
    shutil.copytree(competition.sample_dir, tmp_path / "data")
    test = tmp_path / "data" / competition.schema.tables["test"].filename
    frame = pl.read_csv(test, infer_schema=False)
    pl.concat([frame, frame.head(1)]).write_csv(test)
    monkeypatch.setattr(submit, "load_solution", lambda comp: lambda ctx: pytest.fail("the solution ran"))
    out = tmp_path / "s.csv"
    assert main(["submit", "--comp", slug, "--data", str(tmp_path / "data"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{test}: id {frame['id'][0]} occurs 2 times" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("slug, option, fragment", [
    ("science-exam", "lm=nosuch", "--set lm=nosuch: unknown model 'nosuch'"),
    ("science-exam", "memory=/no/such.csv", "--set memory=/no/such.csv: no such file"),
    ("science-exam", "corpus=/no/such.parquet", "--set corpus=/no/such.parquet: no such file or folder"),
    ("predict-the-llm", "lora_model=minilm", "--set lora_model=minilm: model 'minilm' is of kind 'encoder'"),
    ("prompt-recovery", "metric_encoder=nosuch", "--set metric_encoder=nosuch: unknown model"),
    ("science-exam", "index=bogus", "unknown index kind 'bogus'; use flat, ivf, ivfpq, auto"),
    ("science-exam", "retrieval=bogus", "unknown retrieval mode 'bogus'"),
    ("science-exam", "dense_scope=all", "unknown dense scope 'all'"),
    ("science-exam", "top_k=0", "top_k must be at least 1"),
    ("predict-the-llm", "pool=bogus", "pool must be one of"),
    ("predict-the-llm", "clip=2", "clip must lie in"),
    ("predict-the-llm", "members=bogus", "members: unknown bogus"),
    ("detect-ai-text", "members=,", "members: unknown (none given)"),
    ("prompt-recovery", "members=nope", "members: unknown nope"),
    ("adversarial-judge", "attacks=nope", "attacks: unknown nope"),
    ("adversarial-judge", "search_topics=1", "need search_topics >= 2"),
])
def test_a_missing_model_or_file_or_a_bad_value_is_refused_before_the_data_is_read(slug, option, fragment, capsys):
    assert main(["submit", "--comp", slug, "--set", option]) == 2
    captured = capsys.readouterr()
    assert fragment in captured.err and captured.err.count("\n") == 1
    assert captured.out == ""                  # no "data: ..." line: refused first


def test_a_key_given_twice_is_refused(capsys):
    assert main(["submit", "--comp", "detect-ai-text", "--set", "members=tfidf_linear", "--set", "members=tfidf_lgbm"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --set members is given twice ('tfidf_linear' and 'tfidf_lgbm'): give it once\n"
    assert main(["edge", "--comp", "detect-ai-text", "--set", "members=tfidf_linear", "--set", "members=x"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: --set members is given twice ('tfidf_linear' and 'x'): give it once\n"
    assert captured.out == ""                                      # before the data is read


def test_an_experiment_files_bad_value_or_folds_is_named_as_the_files(tmp_path, monkeypatch, capsys):
    from common import experiments

    monkeypatch.setattr(experiments, "experiments_dir", lambda competition: tmp_path)
    for name, text, fragment in (
            ("maybe", "[set]\nheldout = 'maybe'\n", "maybe.toml: --set heldout='maybe': expected true or false"),
            ("other", "[set]\ntop_k = 3\n", "other.toml: unknown detect-ai-text option(s) top_k"),
            ("scalar", "set = 5\n", "scalar.toml: set must be a table"),
            ("zero", "folds = 0\n", "zero.toml: folds must be an integer of at least 2, got 0"),
            ("yes", "folds = true\n", "yes.toml: folds must be an integer of at least 2, got True"),
            ("listed", "[set]\nmembers = [1, 2]\n", "listed.toml: experiment option values must be strings")):
        (tmp_path / f"{name}.toml").write_text(text)
        assert main(["submit", "--comp", "detect-ai-text", "--exp", name]) == 2, name
        captured = capsys.readouterr()
        assert fragment in captured.err and captured.err.count("\n") == 1, (name, captured.err)
        assert "data:" not in captured.out                 # refused before the data is read
    (tmp_path / "fixed.toml").write_text("[set]\nmembers = 'tfidf_linear,nope'\n")     # --set overrides the file
    assert main(["submit", "--comp", "detect-ai-text", "--exp", "fixed", "--set", "members=nope2"]) == 2
    assert capsys.readouterr().err == ("error: members: unknown nope2; known: tfidf_linear, tfidf_lgbm, "
                                       "lm_perplexity, minilm_finetuned\n")            # the command line's, not the file's
    assert main(["submit", "--comp", "detect-ai-text", "--exp", "fixed", "--set", "members=tfidf_linear",
                 "--data", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err                                                   # past the options' check
    assert err.startswith("error: data folder ") and err.endswith("nowhere does not exist\n")
    assert main(["submit", "--comp", "detect-ai-text", "--exp", "maybe", "--set", "members=nope"]) == 2
    assert capsys.readouterr().err.startswith("error: members: unknown nope;")         # the command line's mistake first
    assert main(["submit", "--comp", "detect-ai-text", "--exp", "maybe", "--set", "members=tfidf_linear"]) == 2
    assert "maybe.toml: --set heldout='maybe': expected true or false" in capsys.readouterr().err
    (tmp_path / "lin.toml").write_text("[set]\nmembers = 'tfidf_linear'\n")
    assert main(["submit", "--comp", "predict-the-llm", "--exp", "lin", "--set", "submit=style_lgbm"]) == 2
    assert capsys.readouterr().err == (f"error: submit: no variant 'style_lgbm' in this run; variants: tfidf_linear, "
                                       f"ensemble, ensemble_assigned, ensemble_balanced (--set with {tmp_path / 'lin.toml'}'s values)\n")
    (tmp_path / "three.toml").write_text("folds = 3\n")
    assert main(["submit", "--comp", "adversarial-judge", "--exp", "three"]) == 2
    assert "three.toml: folds: adversarial-judge has no folds" in capsys.readouterr().err
    (tmp_path / "folder.toml").mkdir()
    assert main(["submit", "--comp", "detect-ai-text", "--exp", "folder"]) == 2
    assert "no experiment 'folder'" in capsys.readouterr().err


def fixed_science_exam_answer(monkeypatch, tmp_path):
    """`kllm submit --comp science-exam` answers "A B C" to every question at once (a CV of 0.4),
    its runs recorded in tmp_path/runs.jsonl; the submit module, for more patches."""
    import polars as pl

    import cli.commands.submit as submit
    from common.registry import get_competition
    from common.solution import CvScore, SolutionResult

    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    test = pl.read_csv(get_competition("science-exam").sample_dir / "test.csv")
    answer = SolutionResult(pl.DataFrame({"id": test["id"], "prediction": ["A B C"] * len(test)}),
                            {"fixed": CvScore(0.4, 0.01, 3)}, "fixed")
    monkeypatch.setattr(submit, "load_solution", lambda comp: lambda ctx: answer)
    return submit


def test_ctrl_c_while_saving_waits_until_the_submission_and_its_records_are_both_written(tmp_path, monkeypatch, capsys):
    import os
    import signal

    from common.data import file_sha256
    from common.results import read_runs

    submit = fixed_science_exam_answer(monkeypatch, tmp_path)
    write = submit.write_submission

    def interrupted_write(*args):
        path = write(*args)
        os.kill(os.getpid(), signal.SIGINT)          # right after the rename, before the records
        return path

    monkeypatch.setattr(submit, "write_submission", interrupted_write)
    out = tmp_path / "s.csv"
    assert main(["submit", "--comp", "science-exam", "--out", str(out)]) == 130
    assert "SIGINT arrived while the run was being saved: it was saved in full" in capsys.readouterr().err
    (run,) = read_runs(tmp_path / "runs.jsonl")
    assert run.extra["submission_sha256"] == file_sha256(out)


def test_a_score_table_that_cannot_be_printed_still_leaves_the_runs_records(tmp_path, monkeypatch, capsys):
    import builtins

    from common.results import read_runs

    fixed_science_exam_answer(monkeypatch, tmp_path)
    real_print = builtins.print

    def failing_print(*args, **kwargs):              # the terminal went away as the scores were printed
        if args and "cross-validated" in str(args[0]):
            raise OSError(5, "Input/output error")
        real_print(*args, **kwargs)

    monkeypatch.setattr(builtins, "print", failing_print)
    assert main(["submit", "--comp", "science-exam", "--out", str(tmp_path / "s.csv")]) == 1
    monkeypatch.setattr(builtins, "print", real_print)
    assert "error: Input/output error" in capsys.readouterr().err
    (run,) = read_runs(tmp_path / "runs.jsonl")      # the submission was written: so were its records
    assert run.variant == "fixed"


def test_a_results_store_that_cannot_take_the_records_leaves_the_last_submission_in_place(tmp_path, monkeypatch,
                                                                                           capsys):
    import common.atomic

    fixed_science_exam_answer(monkeypatch, tmp_path)
    out = tmp_path / "s.csv"
    out.write_text("the last run's submission\n")

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.atomic.os, "write", full_disk)
    assert main(["submit", "--comp", "science-exam", "--out", str(out)]) == 2
    assert "error: cannot append to the results store" in capsys.readouterr().err
    assert out.read_text() == "the last run's submission\n"          # not replaced by a run with no records
    assert not list(tmp_path.glob(".s.csv*"))                                       # no temp file left
    assert (tmp_path / "runs.jsonl").read_bytes() == b""                            # and no record


def test_an_ascii_only_terminal_gets_escapes_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import polars as pl

    from common.registry import get_competition

    pred = tmp_path / "sub é.csv"                    # a name an ASCII terminal cannot show
    ids = pl.read_csv(get_competition("detect-ai-text").sample_dir / "test_essays.csv")["id"].cast(str)
    pred.write_text("id,generated\n" + "".join(f"{i},0.5\n" for i in ids), encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "cli", "score", "--comp", "detect-ai-text", "--pred", str(pred)],
                          capture_output=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")[-400:]
    assert b"sub \\xe9.csv" in done.stdout and b"Traceback" not in done.stderr


def test_hash_and_zero_padded_ids_go_through_submit_and_score_as_written(tmp_path, monkeypatch, capsys):
    import shutil

    import polars as pl

    from common.registry import get_competition

    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.jsonl"))
    folder = tmp_path / "data"
    shutil.copytree(get_competition("prompt-recovery").sample_dir, folder)
    for name in ("test.csv", "sample_submission.csv", "test_labels.csv"):          # "0" -> "000aa", "1" -> "001aa"
        frame = pl.read_csv(folder / name, infer_schema_length=0)
        frame.with_columns(pl.format("00{}aa", pl.col("id")).alias("id")).write_csv(folder / name)
    out = tmp_path / "sub.csv"
    assert main(["submit", "--comp", "prompt-recovery", "--data", str(folder), "--fast", "--out", str(out)]) == 0
    written = pl.read_csv(out, infer_schema_length=0)["id"].to_list()
    assert written == pl.read_csv(folder / "test.csv", infer_schema_length=0)["id"].to_list() and written[0] == "000aa"
    capsys.readouterr()
    assert main(["score", "--comp", "prompt-recovery", "--pred", str(out), "--data", str(folder)]) == 0
    assert "on 60 rows" in capsys.readouterr().out


def test_a_bad_thread_count_is_refused_before_the_solution_runs(tmp_path, monkeypatch, capsys):
    import cli.commands.submit as submit

    monkeypatch.setenv("KLLM_THREADS", "abc")
    monkeypatch.setattr(submit, "load_solution", lambda comp: lambda ctx: pytest.fail("the solution ran"))
    assert main(["submit", "--comp", "adversarial-judge", "--out", str(tmp_path / "s.csv")]) == 2
    assert capsys.readouterr().err == "error: KLLM_THREADS must be a positive integer, got 'abc'\n"
    assert not (tmp_path / "s.csv").exists()


def test_a_bad_author_name_is_refused_before_the_solution_runs(tmp_path, monkeypatch, capsys):
    import cli.commands.submit as submit

    monkeypatch.setenv("KLLM_AUTHOR", "Ada\x1b[31m")
    monkeypatch.setattr(submit, "load_solution", lambda comp: lambda ctx: pytest.fail("the solution ran"))
    assert main(["submit", "--comp", "adversarial-judge", "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: KLLM_AUTHOR=") and "not a name" in err
    assert not (tmp_path / "s.csv").exists()
