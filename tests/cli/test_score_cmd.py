"""`kllm score`: label metrics against --truth, the judge metric by a (fake) local panel on the
competition's own test topics, and bad input as one line with exit 2.

(Named test_score_cmd.py so it does not clash with tests/common/test_scoring.py.)
"""
from pathlib import Path

import polars as pl
import pytest

from cli.main import main
from common.registry import get_competition
from fakes.judges import fake_panel  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
JUDGE = get_competition("adversarial-judge")
SAMPLE_SUBMISSION = JUDGE.sample_dir / "sample_submission.csv"
COMPONENTS = ("avg_q", "avg_h", "min_v", "avg_e", "avg_s")


def test_judge_metric_scores_the_sample_submission_on_the_sample_topics(fake_panel, capsys):
    assert main(["score", "--comp", "adversarial-judge", "--pred", str(SAMPLE_SUBMISSION)]) == 0
    out, err = capsys.readouterr()
    essays = pl.read_csv(SAMPLE_SUBMISSION)["essay"].to_list()
    line, components = out.splitlines()[:2]
    assert line.startswith("adversarial-judge judge_score = ") and f"on {len(essays)} rows" in line
    assert "panel=smollm2:up+down#" in line and "the prompts of test in" in line
    assert all(f"{name} " in components for name in COMPONENTS)
    assert float(line.split(" = ")[1].split()[0]) > 0
    assert f"{len(essays)}/{len(essays)}" in err and "judge up" in err  # a progress bar per judge
    assert len(fake_panel.calls) == 2 * len(essays)
    assert main(["score", "--comp", "adversarial-judge", "--pred", str(SAMPLE_SUBMISSION)]) == 0
    assert len(fake_panel.calls) == 2 * len(essays)  # the second run reads every judgement from disk
    assert capsys.readouterr().out.splitlines()[0].split(" (")[0] == line.split(" (")[0]


def test_judge_topics_come_from_data_and_the_prompt_is_paired_by_id(fake_panel, tmp_path, capsys):
    (tmp_path / "test.csv").write_text("id,topic\n0,Cats\n1,Dogs\n2,Rain\n")
    pred = tmp_path / "essays.csv"
    pred.write_text("id,essay\n2,Rain falls.\n0,Cats purr when happy.\n1,Dogs bark loudly at night.\n")
    assert main(["score", "--comp", "adversarial-judge", "--pred", str(pred), "--data", str(tmp_path)]) == 0
    assert "on 3 rows" in capsys.readouterr().out
    assert set(fake_panel.pairs) == {("Cats", "Cats purr when happy."), ("Dogs", "Dogs bark loudly at night."),
                                     ("Rain", "Rain falls.")}


def _bad(tmp_path, essays_csv: str | bytes) -> Path:
    (tmp_path / "test.csv").write_text("id,topic\n0,Cats\n1,Dogs\n")
    pred = tmp_path / "essays.csv"
    pred.write_bytes(essays_csv if isinstance(essays_csv, bytes) else essays_csv.encode())
    return pred


@pytest.mark.parametrize("essays, extra, fragment", [
    ("id,essay\n0,Cats purr.\n", [], "ids differ from test"),
    ("id,essay\n0,Cats purr.\n1,   \n", [], "empty string"),
    ("id,text\n0,Cats purr.\n1,Dogs.\n", [], "missing column"),
    (b"id,essay\n0,Cats \xff purr.\n1,Dogs.\n", [], "not UTF-8 text"),
    ("id,essay\n0,Cats purr.\n1,Dogs.\n", ["--truth", "labels.csv"], "needs no labels"),
    ("id,essay\n0,Cats purr.\n1,Dogs.\n", ["--encoder", "minilm"], "takes no encoder option"),
])
def test_bad_judge_input_is_one_line_and_exit_2(fake_panel, tmp_path, capsys, essays, extra, fragment):
    pred = _bad(tmp_path, essays)
    argv = ["score", "--comp", "adversarial-judge", "--pred", str(pred), "--data", str(tmp_path), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert fake_panel.calls == []


def test_a_label_metric_needs_truth_where_the_data_has_no_labels(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    pred.write_text("id,prediction\n0,A B C\n1,C B A\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--data", str(tmp_path)]) == 2
    assert f"give --truth FILE with id, answer ({tmp_path} has no test_labels.csv)" in capsys.readouterr().err
    truth = tmp_path / "truth.csv"
    truth.write_text("id,answer\n0,A\n1,B\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--truth", str(truth)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("science-exam map@3 = 0.75000 on 2 rows") and str(truth) in out
    (tmp_path / "test_labels.csv").write_text("id,answer\n0,C\n1,C\n")      # as `make dataset OUT=...` writes it
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("science-exam map@3 = 0.66667 on 2 rows") and str(tmp_path / "test_labels.csv") in out


def test_a_label_metric_on_the_sample_scores_against_its_hidden_labels(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "no-kaggle-files"))
    comp = get_competition("science-exam")
    labels = pl.read_csv(comp.sample_dir / "test_labels.csv")
    pred = tmp_path / "pred.csv"
    pl.DataFrame({"id": labels["id"], "prediction": [" ".join([a, *[o for o in "ABCDE" if o != a][:2]]) for a in labels["answer"]]}).write_csv(pred)
    assert main(["score", "--comp", "science-exam", "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"science-exam map@3 = 1.00000 on {labels.height} rows")
    assert f"{comp.sample_dir / 'test_labels.csv'}: the committed sample's hidden labels" in out


def _record_writer(pred: Path, data_source: str, **extra) -> None:
    from common.data import file_sha256
    from common.results import RunRecord, append_run

    append_run(RunRecord(run_id=f"run-{data_source}", competition="science-exam", variant="ensemble", metric="map@3",
                         cv=0.5, cv_std=0.0, folds=3, higher_is_better=True, data_source=data_source, commit="x",
                         seed=42, wall_s=1.0, peak_mem_mb=1.0, time="t",
                         extra={"submission_sha256": file_sha256(pred), **extra}))


def test_a_data_runs_submission_is_not_scored_against_the_samples_labels_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "no-kaggle-files"))
    comp = get_competition("science-exam")
    labels = pl.read_csv(comp.sample_dir / "test_labels.csv")
    pred = tmp_path / "pred.csv"
    pl.DataFrame({"id": labels["id"], "prediction": ["A B C"] * labels.height}).write_csv(pred)
    _record_writer(pred, "custom+extra")       # ids 0..99 like the sample's: it would score without a word
    assert main(["score", "--comp", "science-exam", "--pred", str(pred)]) == 2
    err = capsys.readouterr().err
    assert (f"{pred}: written by run run-custom+extra on custom data, not the sample files it would be scored "
            "against; give --data FOLDER (that run's data) or --truth FILE") in err and err.count("\n") == 1
    truth = tmp_path / "truth.csv"
    labels.write_csv(truth)
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--truth", str(truth)]) == 0
    _record_writer(pred, "custom", data_path="/data/resplit-1")     # runs since this change name their folder
    assert main(["score", "--comp", "science-exam", "--pred", str(pred)]) == 2
    assert "give --data /data/resplit-1 or --truth FILE" in capsys.readouterr().err
    _record_writer(pred, "sample")             # the latest run that wrote these bytes ran on the sample
    assert main(["score", "--comp", "science-exam", "--pred", str(pred)]) == 0


def test_real_kaggle_files_or_a_missing_data_folder_give_no_default_labels(tmp_path, capsys, monkeypatch):
    import shutil
    comp = get_competition("science-exam")
    real = tmp_path / "data" / "science-exam"
    shutil.copytree(comp.sample_dir, real, ignore=shutil.ignore_patterns("test_labels.csv", "DATASHEET.md"))
    (real / "test.csv").write_text((real / "test.csv").read_text() + "\n")      # not the sample's bytes
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "data"))
    pred = tmp_path / "pred.csv"
    pred.write_text("id,prediction\n0,A B C\n")
    assert main(["score", "--comp", "science-exam", "--pred", str(pred)]) == 2
    err = capsys.readouterr().err
    assert "give --truth FILE with id, answer (Kaggle's files carry no test labels)" in err and err.count("\n") == 1
    assert main(["score", "--comp", "science-exam", "--pred", str(pred), "--data", str(tmp_path / "nope")]) == 2
    assert f"data folder {tmp_path / 'nope'} does not exist" in capsys.readouterr().err


def test_panel_picks_the_judges_that_score(fake_panel, capsys):
    argv = ["score", "--comp", "adversarial-judge", "--pred", str(SAMPLE_SUBMISSION)]
    assert main(argv + ["--panel", "validation"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "panel=smollm2:debate_judge+fact_checker+young_reader#" in line
    assert main(argv + ["--panel", "nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    science = ["score", "--comp", "science-exam", "--pred", str(SAMPLE_SUBMISSION), "--panel", "held-out"]
    assert main(science) == 2 and capsys.readouterr().err == "error: map@3 takes no panel option\n"


def test_with_data_a_submission_a_run_on_other_files_wrote_is_refused(tmp_path, capsys, monkeypatch):
    import shutil

    from common.data import file_sha256, folder_fingerprint
    from common.results import RunRecord, append_run

    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "no-kaggle-files"))
    comp = get_competition("science-exam")
    same, other = tmp_path / "same", tmp_path / "other"        # a copy of the sample's files; a drawn sample
    shutil.copytree(comp.sample_dir, same)
    shutil.copytree(comp.sample_dir, other)
    (other / "test.csv").write_text((other / "test.csv").read_text() + "\n")
    labels = pl.read_csv(comp.sample_dir / "test_labels.csv")
    pred = tmp_path / "pred.csv"
    pl.DataFrame({"id": labels["id"], "prediction": ["A B C"] * labels.height}).write_csv(pred)

    def wrote(run_id, source, folder, data_id):
        append_run(RunRecord(run_id=run_id, competition="science-exam", variant="ensemble", metric="map@3", cv=0.5,
                             cv_std=0.0, folds=3, higher_is_better=True, data_source=source, commit="x", seed=42,
                             wall_s=1.0, peak_mem_mb=1.0, time="t", data_id=data_id,
                             extra={"submission_sha256": file_sha256(pred),
                                    **({"data_path": str(folder)} if folder else {})}))

    def score(*flags):
        code = main(["score", "--comp", "science-exam", "--pred", str(pred), *flags])
        return code, capsys.readouterr().err

    wrote("on-sample", "sample", comp.sample_dir, folder_fingerprint(comp, comp.sample_dir))
    code, err = score("--data", str(other))
    assert code == 2 and err.count("\n") == 1
    assert (f"{pred}: written by run on-sample on sample data ({comp.sample_dir}), not the files of --data {other}; "
            f"give --data {comp.sample_dir}, or --truth FILE to score it against other labels anyway") in err
    assert score("--data", str(same))[0] == 0                             # the same files in another folder
    assert score("--data", str(other), "--truth", str(other / "test_labels.csv"))[0] == 0     # said outright
    wrote("on-other", "custom", other, folder_fingerprint(comp, other))
    assert score("--data", str(other))[0] == 0
    code, err = score("--data", str(same))
    assert code == 2 and f"run on-other on custom data ({other}), not the files of --data {same}" in err
    (other / "test.csv").write_text((other / "test.csv").read_text() + "\n")   # drawn again into the same folder
    code, err = score("--data", str(other))
    assert code == 2 and err.count("\n") == 1
    assert (f"{pred}: written by run on-other on the files {other} held then, which have changed since (drawn "
            "again?); give --truth FILE to score it against the labels there now") in err
    wrote("tables-only", "custom", other, folder_fingerprint(comp, other, side_files=False))   # before 50d4603
    assert score("--data", str(other))[0] == 0
    wrote("with-extra", "custom+extra", other, "0123456789ab")              # its id covers the extra rows too
    assert score("--data", str(other))[0] == 0                             # so its folder is what tells
    assert "run with-extra on custom data" in score("--data", str(same))[1]
    labels_only = tmp_path / "labels"                                     # labels kept apart from the data
    labels_only.mkdir()
    shutil.copy(other / "test_labels.csv", labels_only)
    assert score("--data", str(labels_only))[0] == 0                       # no files to tell the data by
    wrote("unrecorded", "custom", None, "")                               # a run that recorded neither: not judged
    assert score("--data", str(same))[0] == 0
