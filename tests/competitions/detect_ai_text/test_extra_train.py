"""More labeled essays beside train (the real competition's train has 3 generated essays):
found, read, checked, de-duplicated against train, and used by `kllm submit`."""
import json

import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from common.paths import results_path
from competitions.detect_ai_text.extra_train import drop_repeats, extra_train_path, read_extra_train
from fakes.essays import essays, kaggle_like_folder


def test_label_is_read_as_generated_and_bad_rows_are_one_line(tmp_path):
    path = tmp_path / "daigt.csv"
    pl.DataFrame({"text": ["an essay", "another one"], "label": [1, 0], "source": ["x", "y"]}).write_csv(path)
    texts, labels = read_extra_train(path)
    assert texts == ["an essay", "another one"] and labels.tolist() == [1, 0]
    parquet = tmp_path / "daigt.parquet"
    pl.DataFrame({"text": ["a"], "generated": [1]}).write_parquet(parquet)
    assert read_extra_train(parquet)[1].tolist() == [1]
    for body, message in (("text,label\nfine,2\n", "row 1 has label '2'"),
                          ("text,label\nfine,1\n,0\n", "row 2 has an empty text"),
                          ("text,score\nfine,1\n", "needs a 'generated' or 'label' column")):
        path.write_text(body)
        with pytest.raises(UserError, match=message) as err:
            read_extra_train(path)
        assert "\n" not in str(err.value)


def test_texts_already_in_train_or_repeated_are_dropped():
    texts, labels, dropped = drop_repeats(["a", " b ", "c", "b", "d"], np.array([1, 1, 0, 1, 0]), ["a ", "z"])
    assert texts == [" b ", "c", "d"] and labels.tolist() == [1, 0, 0] and dropped == 2


def test_submit_on_kaggle_like_train_says_what_to_add_then_trains_with_the_extra_rows(tmp_path, capsys, monkeypatch):
    from cli.main import main

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))

    folder = kaggle_like_folder(tmp_path / "data")
    argv = ["submit", "--comp", "detect-ai-text", "--data", str(folder), "--folds", "4",
            "--set", "members=tfidf_linear", "--out", str(tmp_path / "sub.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "train has 3 generated and 30 human essays" in err and "extra_train=FILE" in err and err.count("\n") == 1
    assert not (tmp_path / "sub.csv").exists()

    more = essays(40, seed=5).filter(pl.col("generated") == 1)
    train = pl.read_csv(folder / "train_essays.csv")
    extra = pl.concat([more.select("text", pl.col("generated").alias("label")),
                       train.head(2).select("text", pl.col("generated").alias("label"))])   # 2 repeats of train
    extra.write_csv(tmp_path / "daigt.csv")
    assert main(argv + ["--set", f"extra_train={tmp_path / 'daigt.csv'}"]) == 0
    out = capsys.readouterr().out
    assert "extra_train: 20 labeled essays (20 generated)" in out and "2 repeated texts dropped" in out
    assert pl.read_csv(tmp_path / "sub.csv").height == 8
    record = json.loads(results_path().read_text().splitlines()[-1])
    assert record["extra"]["extra_train"]["rows"] == 20 and record["extra"]["extra_train"]["repeats_dropped"] == 2
    assert record["data_source"] == "custom+extra"        # never ranked against runs on train alone
    from common.data import load_dataset
    from common.registry import get_competition

    plain = load_dataset(get_competition("detect-ai-text"), folder).fingerprint
    assert len(record["data_id"]) == 12 and record["data_id"] != plain   # another extra file: another group
    assert record["extra"]["model_files"] == [str(tmp_path / "cache" / "detect_ai_text" / "extra_train" / "daigt.csv")]


def test_the_kaggle_notebook_reads_the_bundled_copy_where_the_path_is_gone(tmp_path, monkeypatch):
    """Build the real bundle for a run with extra_train, then run its notebook as Kaggle would:
    offline, the competition's files as input, the option's own path absent."""
    import os
    import shutil
    import subprocess
    import sys

    from common.kaggle.bundle import build_bundle
    from common.registry import get_competition
    from fakes.runs import make_run

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    folder = kaggle_like_folder(tmp_path / "data")
    daigt = tmp_path / "home" / "daigt.csv"
    daigt.parent.mkdir()
    essays(40, seed=5).filter(pl.col("generated") == 1).select("text", "generated").write_csv(daigt)
    copy = extra_train_path(str(daigt), folder)                     # as `make submit` does: keeps a copy
    record = make_run(run_id="run-x", competition="detect-ai-text", variant="ensemble", metric="roc_auc", cv=0.9,
                      cv_std=0.0, folds=4, data_source="kaggle",
                      extra={"options": {"members": "tfidf_linear", "extra_train": str(daigt)},
                              "model_files": [str(tmp_path / "cache" / "detect_ai_text" / "extra_train" / "daigt.csv")]})
    assert copy == daigt
    bundle = build_bundle(get_competition("detect-ai-text"), record, username="ana", out_dir=tmp_path / "bundle")
    inputs, working = tmp_path / "input", tmp_path / "working"
    (inputs / "kllm-detect-ai-text-code").mkdir(parents=True)
    shutil.copy(bundle.dataset_dir / "kllm_bundle.zip", inputs / "kllm-detect-ai-text-code")
    shutil.copytree(folder, inputs / "llm-detect-ai-generated-text")
    working.mkdir()
    daigt.unlink()                                                  # not on Kaggle
    notebook = json.loads((bundle.kernel_dir / "kllm-detect-ai-text.ipynb").read_text())
    (tmp_path / "tmp").mkdir()                                      # the system's temp folder, as the cell sees it
    env = {**os.environ, "KLLM_KAGGLE_INPUT": str(inputs), "KLLM_KAGGLE_WORKING": str(working),
           "TMPDIR": str(tmp_path / "tmp")}
    env.pop("KLLM_CACHE")
    done = subprocess.run([sys.executable, "-c", notebook["cells"][1]["source"]], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "extra_train: 20 labeled essays (20 generated)" in done.stdout
    assert pl.read_csv(working / "submission.csv").height == 8
    (scratch,) = (tmp_path / "tmp").glob("kllm-*")                  # a fresh scratch folder, never a shared /tmp/kllm
    assert (scratch / "bundle" / "code").is_dir() and (scratch / "cache").is_dir()
