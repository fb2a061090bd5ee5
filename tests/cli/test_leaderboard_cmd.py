"""`kllm leaderboard`: table + PNG from the results store, --compare, --kaggle without credentials.

(Named test_leaderboard_cmd.py so it does not clash with tests/common/test_leaderboard.py.)
"""
import pytest

from cli.main import main
from common.results import append_run
from fakes.kaggle_server import fake_kaggle  # noqa: F401
from fakes.runs import make_run


def add_run(run_id, competition="science-exam", variant="tfidf", cv=0.6, metric="map@3", **kw):
    append_run(make_run(**{**dict(run_id=run_id, competition=competition, variant=variant, metric=metric, cv=cv,
                                  higher_is_better=metric != "multiclass_logloss"), **kw}))


def test_table_and_png_for_two_competitions(tmp_path, capsys):
    add_run("r-exam-1", cv=0.55)
    add_run("r-exam-2", variant="retrieval", cv=0.71)
    add_run("r-llm-1", competition="predict-the-llm", variant="lgbm", cv=1.21, metric="multiclass_logloss")
    png = tmp_path / "board.png"
    assert main(["leaderboard", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    for slug in ("adversarial-judge", "detect-ai-text", "predict-the-llm", "prompt-recovery", "science-exam"):
        assert f"{slug}  [" in out
    exam = out.split("science-exam  [")[1]
    assert exam.index("retrieval") < exam.index("tfidf")  # best first
    assert "0.933" in exam and "1st place, real LB" in exam
    assert "1.2100 ± 0.0200" in out.split("predict-the-llm  [")[1]
    assert png.read_bytes()[:4] == b"\x89PNG" and f"chart: {png}" in out


def test_comp_keeps_one_competition_in_the_table_and_an_unknown_one_is_one_line(tmp_path, capsys):
    add_run("r-exam-1", cv=0.55)
    add_run("r-llm-1", competition="predict-the-llm", variant="lgbm", cv=1.21, metric="multiclass_logloss")
    assert main(["leaderboard", "--comp", "predict-the-llm", "--png", str(tmp_path / "one.png")]) == 0
    out = capsys.readouterr().out
    assert "predict-the-llm  [" in out and "r-llm-1" in out
    assert "science-exam" not in out and "r-exam-1" not in out
    assert main(["leaderboard", "--comp", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown competition 'nope'" in err


def test_default_png_next_to_the_store(tmp_path, capsys):
    assert main(["leaderboard"]) == 0
    assert (tmp_path / "results" / "leaderboard.png").is_file()


def test_one_competitions_default_chart_leaves_the_chart_of_all_alone(tmp_path, capsys):
    assert main(["leaderboard"]) == 0
    every = (tmp_path / "results" / "leaderboard.png").read_bytes()
    assert main(["leaderboard", "--comp", "science-exam"]) == 0
    assert (tmp_path / "results" / "leaderboard-science-exam.png").is_file()
    assert (tmp_path / "results" / "leaderboard.png").read_bytes() == every


def test_compare(capsys):
    add_run("20261122-aaa", cv=0.50, seed=1)
    add_run("20261122-bbb", cv=0.60, seed=2)
    assert main(["leaderboard", "--compare", "20261122-a", "20261122-b"]) == 0
    out = capsys.readouterr().out
    assert "seed" in out and "B-A +0.1000 (B better)" in out and "variant" not in out.split("\n", 1)[1]


def test_compare_unknown_run_is_one_line(capsys):
    assert main(["leaderboard", "--compare", "nope", "nada"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run with id 'nope'" in err


def test_kaggle_without_credentials_still_prints_the_table(fake_kaggle, capsys):
    add_run("r1")
    assert main(["leaderboard", "--kaggle"]) == 1                      # 1: the table, but Kaggle was not read
    captured = capsys.readouterr()
    assert captured.err.startswith("warning: kaggle: not fetched: no Kaggle credentials")
    assert "the scores shown are those filed before" in captured.err and len(captured.err.splitlines()) == 1
    assert "r1" in captured.out and "kaggle" not in captured.out.splitlines()[0] and fake_kaggle.calls == []


def test_a_broken_kaggle_json_is_a_warning_and_the_table_still_prints(fake_kaggle, capsys):
    (fake_kaggle.home / ".kaggle" / "kaggle.json").write_text("{not json")
    add_run("r1")
    assert main(["leaderboard", "--kaggle"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("warning: kaggle: not fetched: ") and "is not valid JSON" in captured.err
    assert "r1" in captured.out


def test_kaggle_unreachable_warns_once_and_tries_no_other_competition(fake_kaggle, monkeypatch, capsys):
    from kagglesdk import kaggle_env

    from fakes.kaggle_server import write_kaggle_json

    write_kaggle_json(fake_kaggle.home)
    monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.LOCAL, "http://127.0.0.1:9")  # refused
    add_run("r1")
    assert main(["leaderboard", "--kaggle"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2 and "cannot reach Kaggle" in lines[0] and "were not tried" in lines[1]
    assert "r1" in captured.out


def test_kinds_and_encoders_are_ranked_apart_and_old_records_count_as_cv(tmp_path, capsys):
    import json

    add_run("r-cv", competition="prompt-recovery", variant="a", cv=0.50, metric="sharpened_cosine", encoder="minilm")
    add_run("r-ho", competition="prompt-recovery", variant="a", cv=0.90, metric="sharpened_cosine",
            encoder="minilm", kind="holdout")
    store = tmp_path / "results" / "runs.jsonl"
    old = json.loads(store.read_text().splitlines()[0])
    for key in ("kind", "encoder", "panel"):
        old.pop(key)
    with store.open("a") as handle:  # written before kinds existed
        handle.write(json.dumps({**old, "run_id": "r-old", "variant": "b", "cv": 0.7}) + "\n")
    assert main(["leaderboard", "--png", str(tmp_path / "lb.png")]) == 0
    out = capsys.readouterr().out
    block = out.split("prompt-recovery  [")[1].split("\n\n")[0]
    assert "3 groups, each ranked on its own" in block
    sections = block.split("  -- ")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "sample data, cv (held-out folds)", "sample data, cv (held-out folds), encoder=minilm",
        "sample data, holdout (a held-out split), encoder=minilm"]
    assert "r-old" in sections[0] and "r-cv" in sections[1] and "r-ho" in sections[2]
    assert "never ranked against each other" in out


def test_runs_with_extra_training_rows_are_ranked_apart(tmp_path, capsys):
    add_run("r-plain", competition="detect-ai-text", variant="ensemble", cv=0.60, metric="roc_auc", data_source="kaggle")
    add_run("r-extra", competition="detect-ai-text", variant="ensemble", cv=0.95, metric="roc_auc",
            data_source="kaggle+extra")
    assert main(["leaderboard", "--comp", "detect-ai-text", "--png", str(tmp_path / "lb.png")]) == 0
    out = capsys.readouterr().out
    sections = out.split("detect-ai-text  [")[1].split("\n\n")[0].split("  -- ")[1:]
    assert [s.splitlines()[0] for s in sections] == ["kaggle data, cv (held-out folds)",
                                                     "kaggle+extra data, cv (held-out folds)"]
    assert "r-plain" in sections[0] and "r-extra" in sections[1] and "'+extra' = trained and validated" in out


@pytest.mark.parametrize("target, message", [("folder", "is a folder"), ("file/chart.png", "is a file, not a folder")])
def test_a_bad_png_path_is_one_line_before_the_table(tmp_path, capsys, target, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    assert main(["leaderboard", "--png", str(tmp_path / target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err


def test_a_teammates_store_gets_its_own_rows_and_compare_finds_its_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KLLM_AUTHOR", "me")
    add_run("20261207-mine", cv=0.55)
    theirs = tmp_path / "team" / "alice" / "runs.jsonl"
    theirs.parent.mkdir(parents=True)
    append_run(make_run(run_id="20261207-alic", competition="science-exam", variant="tfidf", cv=0.58), theirs)
    png = tmp_path / "team.png"
    assert main(["leaderboard", "--comp", "science-exam", "--with", str(theirs.parent), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert f"store: {theirs} (alice: 1 run(s): alice 1)" in out
    rows = [line.split()[:2] for line in out.splitlines() if line.strip().startswith("tfidf")]
    assert rows == [["tfidf", "alice"], ["tfidf", "me"]]       # one row each, the better first
    assert main(["leaderboard", "--with", f"Alice={theirs}", "--compare", "20261207-m", "20261207-a"]) == 0
    assert "B-A +0.0300 (B better)" in capsys.readouterr().out
    assert main(["leaderboard", "--comp", "science-exam", "--png", str(png)]) == 0
    assert " by " not in capsys.readouterr().out                # alone: the board as before


@pytest.mark.parametrize("given, message", [("{tmp}/nope.jsonl", "no results store at"),
                                            ("{tmp}/x.png", "is not a results store")])
def test_a_with_that_is_no_store_is_one_line_before_the_table(tmp_path, capsys, given, message):
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["leaderboard", "--with", given.format(tmp=tmp_path), "--png", str(tmp_path / "b.png")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err and captured.out == ""
    assert not (tmp_path / "b.png").exists()
