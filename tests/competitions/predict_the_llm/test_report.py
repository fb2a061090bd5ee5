"""The confusion report's command line: bad input is one line and exit 2, and no PNG is left."""
from competitions.predict_the_llm import report


def test_a_missing_file_or_a_bad_flag_is_one_line_and_draws_nothing(tmp_path, capsys):
    out = tmp_path / "confusion.png"
    for argv in (["--pred", str(tmp_path / "none.csv"), "--out", str(out)], ["--pre", "x.csv"], ["--bogus"]):
        assert report.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
    assert not out.exists()


def _record_writer(pred, data_source, **extra):
    from common.data import file_sha256
    from common.results import RunRecord, append_run

    append_run(RunRecord(run_id=f"run-{data_source}", competition="predict-the-llm", variant="ensemble",
                         metric="multiclass_logloss", cv=0.2, cv_std=0.0, folds=3, higher_is_better=False,
                         data_source=data_source, commit="x", seed=42, wall_s=1.0, peak_mem_mb=1.0, time="t",
                         extra={"submission_sha256": file_sha256(pred), **extra}))


def test_a_data_runs_file_is_reported_against_that_folders_labels_and_its_own_oof(tmp_path, capsys, monkeypatch):
    import shutil

    import polars as pl

    from common.registry import get_competition

    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "no-kaggle-files"))
    folder = tmp_path / "resplit-1"
    shutil.copytree(get_competition("predict-the-llm").sample_dir, folder)
    labels = pl.read_csv(folder / "test_labels.csv").with_columns((pl.col("target") + 1) % 7)
    labels.write_csv(folder / "test_labels.csv")      # same ids as the sample's test, other targets
    pred, out = tmp_path / "sub.csv", tmp_path / "confusion.png"
    pl.DataFrame({"id": labels["id"], **{f"target_{t}": (labels["target"] == t).cast(float) * 0.93 + 0.01
                                         for t in range(7)}}).write_csv(pred)
    oof = [[int(i == j) * 5 for j in range(7)] for i in range(7)]
    _record_writer(pred, "custom", data_path=str(folder), oof_confusion=oof)
    assert report.main(["--pred", str(pred), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "written by run run-custom on custom data, not the sample files" in err and err.count("\n") == 1
    assert not out.exists()
    assert report.main(["--pred", str(pred), "--data", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"on {labels.height} rows (against {folder / 'test_labels.csv'}: --data's labels)" in printed
    assert "accuracy 1.0000" in printed and out.is_file()
    variant, counts = report.oof_confusion_for(pred, defaults=False)
    assert variant == "ensemble" and counts.tolist() == oof
