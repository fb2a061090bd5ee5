"""`make edge` end to end on tiny data: teacher spec -> student -> ONNX -> int8 -> table ->
bundle with a manifest and no torch -> deploy to the emulated Pi (aarch64 under qemu-user)."""
import json
from pathlib import Path

import numpy as np
import pytest

from cli.main import main
from common.data import load_dataset
from common.errors import UserError
from common.registry import get_competition
from edge.bundle import verify_bundle
from edge.distill import DistillConfig
from edge.pipeline import EdgeConfig, run_edge
from edge.specs import check_distill_set, load_distill_set
from fakes.essays import write_essays


@pytest.fixture
def dataset(tmp_path):
    comp = get_competition("detect-ai-text")
    return comp, load_dataset(comp, write_essays(tmp_path / "data", n_train=64, n_test=16))


def test_spec_holds_out_texts_the_teacher_and_student_never_see(dataset):
    comp, data = dataset
    ds = load_distill_set(comp, data, seed=1, options={"members": "tfidf_linear"})
    assert not set(ds.holdout_texts) & set(ds.texts)
    assert len(ds.holdout_texts) == 13 and len(ds.texts) == 51 + 16  # 80% of train + the test texts
    assert ds.soft_labels.shape == (len(ds.texts), 2)
    np.testing.assert_allclose(ds.soft_labels.sum(1), 1, atol=1e-5)
    assert ds.teacher_score > 0.9


def test_check_distill_set_names_the_problem():
    with pytest.raises(UserError, match="missing key"):
        check_distill_set({"label_names": ("a", "b")})
    raw = {"label_names": ("h", "ai"), "positive_label": "ai", "metric": "roc_auc", "texts": ["x"],
           "soft_labels": [[0.5, 0.6]], "holdout_texts": ["y"], "holdout_labels": [1],
           "holdout_teacher": [0.3], "teacher": "t"}
    with pytest.raises(UserError, match="sum to 1"):
        check_distill_set(raw)


def test_pipeline_end_to_end_deploys_to_the_emulated_pi(dataset, tmp_path, pi_root):
    comp, data = dataset
    # one short epoch: this test checks the plumbing; test_distill.py checks that students learn
    config = EdgeConfig(distill=DistillConfig(num_layers=1, max_length=32, epochs=1, batch_size=16,
                                              show_progress_bar=False),
                        max_int8_drop=1.0, latency_texts=4, out_dir=tmp_path / "edge",
                        emulated_dir=tmp_path / "pi-device")
    report = run_edge(comp, data, config, skip_deploy=False, seed=1, options={"members": "tfidf_linear"},
                      log=lambda *_: None)
    assert set(report.scores) == {"teacher", "pytorch fp32", "onnx fp32", "onnx int8"}
    assert report.scores["pytorch fp32"] == pytest.approx(report.scores["onnx fp32"], abs=1e-6)
    assert report.parity_max_abs_diff < 1e-4
    assert report.deploy["smoke"]["machine"] == "aarch64" and report.deploy["smoke"]["ok"] is True
    assert report.deploy["smoke"]["emulated"] is True
    current = (tmp_path / "pi-device" / "current").resolve()
    assert current.name == report.deploy["version"] and report.bundle["version"][:8] in current.name
    assert (current / "model.onnx").is_file()
    bundle = verify_bundle(Path(report.bundle["path"]))
    assert {"model.onnx", "tokenizer.json", "detect.py", "requirements.txt"} <= set(bundle.files)
    assert bundle.total_bytes < 100 * 1024 * 1024
    saved = json.loads((tmp_path / "edge" / "report.json").read_text())
    assert saved["scores"]["teacher"] == report.scores["teacher"]
    assert (tmp_path / "edge" / "compare.png").stat().st_size > 1000
    header = (tmp_path / "edge" / "compare.csv").read_text().splitlines()[0]
    assert header.startswith("variant,size_mb,p50_1t_ms")


def test_cli_rejects_a_bad_flag(capsys):
    assert main(["edge", "--comp", "detect-ai-text", "--bogus"]) == 2
    assert "error:" in capsys.readouterr().err
