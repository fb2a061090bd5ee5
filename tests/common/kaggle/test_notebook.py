"""The notebook built for code competitions really runs offline: bundle found among the inputs,
competition files linked as data/<slug>, the registered solution run, submission.csv written.

A stand-in competition package (`demo`) rides in the bundle beside the real `common/` code, so
the test exercises the real template and bundle layout without a trained model.
"""
import json
import os
import random
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from common.errors import UserError
from common.kaggle.bundle import _notebook, _write_zip, build_bundle
from common.paths import repo_root
from common.registry import Competition, get_competition
from common.schema import CompetitionSchema, SubmissionSchema
from fakes.runs import make_run

DEMO_INIT = '''
from pathlib import Path
from common.registry import Competition, register
from common.schema import INT, STR, CompetitionSchema, SubmissionSchema, TableSchema
register(Competition(slug="demo", kaggle_slug="demo-comp", title="Demo", metric="map@3",
    schema=CompetitionSchema(tables={"train": TableSchema("train.csv", {"id": INT, "text": STR}),
                                     "test": TableSchema("test.csv", {"id": INT, "text": STR})},
                             submission=SubmissionSchema("id", ("prediction",), "map3_letters")),
    sample_dir=Path(__file__).parent, solution="competitions.demo.solution:run"))
'''
DEMO_SOLUTION = '''
from dataclasses import dataclass
import polars as pl
from common.solution import CvScore, SolutionResult
@dataclass
class Options:
    tag: bool = False
def run(ctx):
    test = ctx.data.tables["test"]
    print("CONTEXT", ctx.seed, ctx.fast, ctx.folds, ctx.experiment)
    import random, numpy
    print("DRAWS", random.random(), numpy.random.random())
    sub = test.select("id").with_columns(pl.lit("B C D" if ctx.config(Options).tag else "A B C").alias("prediction"))
    return SolutionResult(submission=sub, cv={"const": CvScore(0.5)}, best="const")
'''


def demo_record(**extra):
    return make_run(run_id="run-demo", competition="demo", variant="const", cv_std=0.0, folds=3, seed=7, extra=extra)


def test_notebook_runs_the_solution_offline(tmp_path):
    root = repo_root()
    work_src = tmp_path / "src"
    for name, text in (("__init__.py", DEMO_INIT), ("solution.py", DEMO_SOLUTION)):
        (work_src / "demo").mkdir(parents=True, exist_ok=True)
        (work_src / "demo" / name).write_text(text)
    files = [(root / "competitions" / "__init__.py", "code/competitions/__init__.py")]
    files += [(p, f"code/common/{p.relative_to(root / 'common').as_posix()}")
              for p in sorted((root / "common").rglob("*.py")) if "__pycache__" not in p.parts]
    files += [(p, f"code/competitions/demo/{p.name}") for p in (work_src / "demo").iterdir()]
    (work_src / "weights_pkg").mkdir()
    (work_src / "weights_pkg" / "__init__.py").write_text("")
    files += [(work_src / "weights_pkg" / "__init__.py", "site/weights_pkg/__init__.py")]   # a model's package
    inputs, working = tmp_path / "input", tmp_path / "working"
    (inputs / "kllm-demo-code").mkdir(parents=True)
    _write_zip(inputs / "kllm-demo-code" / "kllm_bundle.zip", files,
               {"run_id": "run-demo", "versions": {"polars": "0.0.1"}})
    (inputs / "demo-comp").mkdir()
    (inputs / "demo-comp" / "train.csv").write_text("id,text\n0,a\n1,b\n")
    (inputs / "demo-comp" / "test.csv").write_text("id,text\n10,x\n11,y\n12,z\n")
    working.mkdir()

    demo = Competition(slug="demo", kaggle_slug="demo-comp", title="Demo", metric="map@3",
                       schema=CompetitionSchema(tables={}, submission=SubmissionSchema("id", ("prediction",), "map3_letters")),
                       sample_dir=tmp_path)
    record = demo_record(options={"tag": "1"}, fast=True, folds_requested=3, experiment="quick")
    source = _notebook(demo, record)["cells"][1]["source"]
    check = ("\nimport common, competitions.demo, weights_pkg\n"
             "print('FROM', common.__file__, competitions.demo.__file__, weights_pkg.__file__)\n")
    env = {**os.environ, "KLLM_KAGGLE_INPUT": str(inputs), "KLLM_KAGGLE_WORKING": str(working),
           "KLLM_KAGGLE_SCRATCH": str(tmp_path / "scratch")}
    done = subprocess.run([sys.executable, "-c", source + check], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (working / "submission.csv").read_text() == "id,prediction\n10,B C D\n11,B C D\n12,B C D\n"
    assert "CONTEXT 7 True 3 quick" in done.stdout                  # the run's seed, --fast, --folds, experiment
    random.seed(7)
    np.random.seed(7)
    assert f"DRAWS {random.random()} {np.random.random()}" in done.stdout   # the global generators seeded as submit's
    assert str(tmp_path / "scratch" / "bundle" / "code" / "common") in done.stdout  # the bundled code, not the repo's
    assert str(tmp_path / "scratch" / "bundle" / "site" / "weights_pkg") in done.stdout
    assert sorted(p.name for p in working.iterdir()) == ["data", "submission.csv"]  # the notebook's output: small
    assert "note: the run used polars 0.0.1; here it is " in done.stdout
    assert os.path.realpath(working / "data" / "demo") == str(inputs / "demo-comp")


def test_bundle_metadata_and_model_files(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "cache" / "models" / "tiny" / "weights.bin"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"\x00" * 64)
    exam = get_competition("science-exam")
    bundle = build_bundle(exam, demo_record(model_files=[str(model.parent)]), "ana", tmp_path / "out" / "nb")
    meta = json.loads((bundle.kernel_dir / "kernel-metadata.json").read_text())
    assert meta["enable_internet"] is False and meta["competition_sources"] == ["kaggle-llm-science-exam"]
    assert meta["dataset_sources"] == ["ana/kllm-science-exam-code"] and meta["id"] == "ana/kllm-science-exam"
    assert (bundle.kernel_dir / meta["code_file"]).is_file()
    with zipfile.ZipFile(bundle.dataset_dir / "kllm_bundle.zip") as zf:
        assert zf.read("cache/models/tiny/weights.bin") == b"\x00" * 64
        manifest = json.loads(zf.read("manifest.json"))
    assert len(manifest["files"]["cache/models/tiny/weights.bin"]) == 64  # sha256 hex
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["nb"]  # no staging left


def test_missing_model_file_is_one_line(tmp_path):
    with pytest.raises(UserError, match="model file listed by run run-demo is missing"):
        build_bundle(get_competition("science-exam"), demo_record(model_files=[str(tmp_path / "gone")]), "ana",
                     tmp_path / "nb")
    assert not (tmp_path / "nb").exists()


def test_the_models_a_run_read_ride_in_the_bundle_as_their_packages(tmp_path, monkeypatch):
    from fakes.tiny_model_package import install_tiny_model

    install_tiny_model(tmp_path / "site", monkeypatch)
    bundle = build_bundle(get_competition("science-exam"), demo_record(models=["tiny", "gone-from-the-zoo"]), "ana",
                          tmp_path / "nb")
    with zipfile.ZipFile(bundle.dataset_dir / "kllm_bundle.zip") as zf:
        assert zf.read("site/tinymodel/weights.bin") == b"0123456789"
        assert "site/tinymodel-0.1.dist-info/METADATA" in zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["versions"]["polars"] and "torch" in manifest["versions"]


def test_an_option_naming_a_local_path_is_refused_for_the_notebook(tmp_path, monkeypatch):
    corpus = tmp_path / "wiki.parquet"
    corpus.write_bytes(b"x")
    for options in ({"corpus": str(corpus)}, {"lm": str(tmp_path)}):
        with pytest.raises(UserError, match="names a path on this machine, which the Kaggle notebook will not have"):
            build_bundle(get_competition("science-exam"), demo_record(options=options), "ana", tmp_path / "nb")
    with pytest.raises(UserError, match="names a Hugging Face model, which Kaggle's offline notebook cannot download"):
        build_bundle(get_competition("science-exam"), demo_record(options={"metric_encoder": "sentence-transformers/"
                                                                           "sentence-t5-base"}), "ana", tmp_path / "nb")
    assert not (tmp_path / "nb").exists()
    (tmp_path / "smollm2").mkdir()                                   # a bare name is not a path, here or there
    monkeypatch.chdir(tmp_path)
    build_bundle(get_competition("science-exam"), demo_record(options={"extra_train": str(corpus), "lm": "smollm2"}),
                 "ana", tmp_path / "nb")
