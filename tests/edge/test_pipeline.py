"""`make edge` end to end on tiny data: teacher spec -> student -> ONNX -> int8 -> table ->
bundle with a manifest and no torch -> deploy to the emulated Pi (aarch64 under qemu-user); and a
three-class distill set over text pairs through the same flow."""
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from cli.main import main
from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from edge.bundle import verify_bundle
from edge.classifier.distill import DistillConfig
from edge.classifier.prune import PruneConfig
from edge.config import EdgeConfig
from edge.pipeline import load_distill_set, run_edge
from fakes.essays import write_essays


@pytest.fixture
def dataset(tmp_path):
    comp = get_competition("detect-ai-text")
    return comp, load_dataset(comp, write_essays(tmp_path / "data", n_train=64, n_test=16))


def test_spec_holds_out_texts_the_teacher_and_student_never_see(dataset):
    comp, data = dataset
    ds = load_distill_set(comp, data, seed=1, options={"members": "tfidf_linear"})
    assert not set(ds.holdout_inputs) & set(ds.inputs)
    assert len(ds.holdout_inputs) == 13 and len(ds.inputs) == 51 + 16  # 80% of train + the test texts
    assert ds.soft_labels.shape == (len(ds.inputs), 2) and ds.holdout_teacher.shape == (13, 2)
    assert (ds.label_names, ds.positive_label, ds.metric, ds.pairs) == (("human", "ai"), "ai", "roc_auc", False)
    np.testing.assert_allclose(ds.soft_labels.sum(1), 1, atol=1e-5)
    assert ds.teacher_score > 0.9


def test_an_edge_spec_must_return_a_distill_set(dataset):
    comp, data = dataset
    with pytest.raises(UserError, match="returned dict, want a common.distill_set.DistillSet"):
        load_distill_set(dataclasses.replace(comp, slug="toy", edge_spec="fake_specs:plain_dict"), data)


def test_pipeline_end_to_end_deploys_to_the_emulated_pi(dataset, tmp_path, pi_root):
    comp, data = dataset
    # one short epoch: this test checks the plumbing; test_distill.py checks that students learn
    config = EdgeConfig(distill=DistillConfig(num_layers=1, max_length=32, epochs=1, batch_size=16,
                                              show_progress_bar=False),
                        prune=PruneConfig(epochs=1, importance_inputs=16),
                        max_int8_drop=1.0, latency_texts=4, latency_rounds=1, out_dir=tmp_path / "edge",
                        emulated_dir=tmp_path / "pi-device")
    report = run_edge(comp, data, config, skip_deploy=False, seed=1, options={"members": "tfidf_linear"},
                      experiment="lin", log=lambda *_: None)
    candidates = {"onnx int8", "onnx int8 static", "onnx int8 pruned"}
    assert set(report.scores) == {"teacher", "pytorch fp32", "onnx fp32", "onnx fp32 pruned"} | candidates
    assert report.info["shipped"] in candidates and "fastest" in report.info["shipped_why"]
    pruned = onnx.load(report.files["onnx int8 pruned"])   # half the FFN channels of the 1-layer student
    shapes = {tuple(init.dims) for init in pruned.graph.initializer}
    assert {(384, 768), (768, 384)} <= shapes and not any(1536 in dims for dims in shapes)
    assert report.scores["pytorch fp32"] == pytest.approx(report.scores["onnx fp32"], abs=1e-6)
    assert report.parity_max_abs_diff < 1e-4
    assert report.deploy["smoke"]["machine"] == "aarch64" and report.deploy["smoke"]["ok"] is True
    assert report.deploy["smoke"]["emulated"] is True
    current = (tmp_path / "pi-device" / "detect-ai-text" / "current").resolve()  # the competition's own folder
    assert current.name == report.deploy["version"] and report.bundle["version"][:8] in current.name
    assert (current / "model.onnx").is_file()
    provenance = json.loads((current / "config.json").read_text())["provenance"]
    assert provenance["competition"] == "detect-ai-text" and provenance["metric"] == "roc_auc"
    assert provenance["shipped"] == report.info["shipped"]
    # the test's 1-block student keeps its block: pruning takes only FFN channels
    assert "pruned candidate: 0 block(s) dropped, 50% of FFN channels kept, 1 epochs re-distilled" in provenance["student"]
    assert provenance["data"] == report.info["data_source"] and "fast" not in provenance     # not run with fast=True
    assert provenance["commit"] and provenance["scores"]["teacher"] == round(report.scores["teacher"], 4)
    assert provenance["options"] == {"members": "tfidf_linear"} and provenance["experiment"] == "lin"
    bundle = verify_bundle(Path(report.bundle["path"]))
    assert {"model.onnx", "tokenizer.json", "detect.py", "requirements.txt"} <= set(bundle.files)
    assert bundle.total_bytes < 100 * 1024 * 1024
    saved = json.loads((tmp_path / "edge" / "report.json").read_text())
    assert saved["scores"]["teacher"] == report.scores["teacher"]
    assert (tmp_path / "edge" / "compare.png").stat().st_size > 1000
    header = (tmp_path / "edge" / "compare.csv").read_text().splitlines()[0]
    assert header.startswith("variant,size_mb,p50_1t_ms")


def test_three_classes_over_text_pairs_go_through_the_same_flow(dataset, tmp_path):
    comp, data = dataset
    toy = dataclasses.replace(comp, slug="toy-pairs", edge_spec="fake_specs:three_class_pairs")
    config = EdgeConfig(distill=DistillConfig(num_layers=1, max_length=24, epochs=1, batch_size=16,
                                              show_progress_bar=False),
                        prune=PruneConfig(epochs=1, importance_inputs=16),
                        max_int8_drop=1.0, latency_texts=3, latency_rounds=1, out_dir=tmp_path / "edge")
    report = run_edge(toy, data, config, skip_deploy=True, seed=3, log=lambda *_: None)
    assert report.info["metric"] == "multiclass_logloss" and report.info["higher_is_better"] is False
    assert report.info["pairs"] is True and report.info["labels"] == ["apple", "river", "stone"]
    assert np.isfinite(report.scores["onnx int8 pruned"])   # pairs and three classes through the pruned candidate
    assert report.scores["pytorch fp32"] == pytest.approx(report.scores["onnx fp32"], abs=1e-5)
    assert report.parity_max_abs_diff < 1e-4 and report.deploy == {}
    assert "options" not in report.info and "experiment" not in report.info      # the teacher's defaults
    bundle = Path(report.bundle["path"])
    config_json = json.loads((bundle / "config.json").read_text())
    assert config_json["pairs"] is True and config_json["labels"] == ["apple", "river", "stone"]
    done = subprocess.run([sys.executable, "-I", "detect.py", "--self-test"], cwd=bundle, capture_output=True,
                          text=True, timeout=120)
    smoke = json.loads(done.stdout)
    assert done.returncode == 0 and smoke["ok"] is True and len(smoke["probs"][0]) == 3


def test_cli_rejects_a_bad_flag(capsys):
    assert main(["edge", "--comp", "detect-ai-text", "--bogus"]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_refused_option_leaves_no_output_folder(tmp_path, capsys):
    assert main(["edge", "--comp", "detect-ai-text", "--out", str(tmp_path / "out"), "--set", "bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_full_length_timing_joins_held_out_texts_and_refuses_pairs(tmp_path):
    from types import SimpleNamespace

    from common.training.text_classifier import TextClassifierConfig, load_classifier
    from edge.pipeline import latency_inputs

    _, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, num_labels=2))
    tokenizer.save_pretrained(tmp_path)
    ds = SimpleNamespace(pairs=False, holdout_inputs=["A short essay.", "Another one.", "A third, a bit longer."])
    config = EdgeConfig(distill=DistillConfig(max_length=12))
    assert latency_inputs(ds, config, tmp_path, 2) == ["A short essay.", "Another one."]
    config.latency_full_length = True
    filled = latency_inputs(ds, config, tmp_path, 2)
    assert len(filled) == 2 and all(len(tokenizer(t, add_special_tokens=False)["input_ids"]) >= 12 for t in filled)
    with pytest.raises(UserError, match="text pairs"):
        latency_inputs(SimpleNamespace(pairs=True, holdout_inputs=[("a", "b")]), config, tmp_path, 2)


def test_an_unknown_edge_lm_a_malformed_device_or_an_unsafe_root_is_refused_before_the_teacher_runs(tmp_path):
    class NoSpec:   # a competition whose edge spec must not be reached
        slug = "science-exam"

        def load_entry(self, name):
            raise AssertionError(f"{name} was loaded: the bad option was not refused first")

    config = EdgeConfig(out_dir=str(tmp_path / "out"))
    with pytest.raises(UserError, match=r"edge_lm must be one of .*int4-q41.*int8-smooth.*got 'int3'"):
        run_edge(NoSpec(), None, config, skip_deploy=True, options={"edge_lm": "int3"})
    for device in (":::", "pi@", "pi@host:99999"):
        with pytest.raises(UserError, match="bad device .*want user@host"):
            run_edge(NoSpec(), None, config, device=device)
    assert not (tmp_path / "out").exists()      # refused before build/edge/<slug> was made
    with pytest.raises(UserError, match="unsafe device root"):
        run_edge(NoSpec(), None, EdgeConfig(out_dir=str(tmp_path / "out"), deploy_root="edge; id"), device="pi@host")
    with pytest.raises(UserError, match="unsafe device root"):
        run_edge(NoSpec(), None, EdgeConfig(out_dir=str(tmp_path / "out"), emulated_dir=tmp_path / "a\nb"))
    assert not (tmp_path / "out").exists() and not (tmp_path / "a\nb").exists()


def test_a_run_stopped_half_way_leaves_no_report_or_bundle_of_the_run_before(dataset, tmp_path, monkeypatch):
    import edge.pipeline
    from common.distill_set import DistillSet

    comp, data = dataset
    toy = dataclasses.replace(comp, slug="toy-pairs", edge_spec="fake_specs:three_class_pairs")
    out = tmp_path / "edge"
    (out / "bundle").mkdir(parents=True)
    for name in ("report.json", "compare.csv", "compare.png", "bundle/model.onnx", "student.fp32.onnx"):
        (out / name).write_text("the run before")

    def stopped(run, spec):
        (out / "student.fp32.onnx").write_text("this run")
        raise KeyboardInterrupt

    monkeypatch.setitem(edge.pipeline.FLOWS, DistillSet, stopped)
    with pytest.raises(KeyboardInterrupt):
        run_edge(toy, data, EdgeConfig(out_dir=out), skip_deploy=True, log=lambda *_: None)
    assert sorted(p.name for p in out.iterdir()) == ["student.fp32.onnx"]     # nothing claims to describe it
