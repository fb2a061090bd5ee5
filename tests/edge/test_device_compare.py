"""A classifier's candidates on the device (edge/device_compare.py, bench/edge_device.py):
the tiny classifier's fp32 and int8 on the emulated Pi and over ssh, the table and the target lines."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_onnx import PAIRS, TEXTS, make_tiny_classifier

from edge.classifier.bundle import ClassifierBundleConfig, build_bundle


@pytest.fixture(scope="module")
def candidates(tmp_path_factory, minilm_tokenizer) -> tuple[Path, dict[str, Path]]:
    """A bundle shipping the tiny classifier's dynamic int8, and {"onnx fp32", "onnx int8"} files."""
    from edge.quantize import quantize_int8

    folder = tmp_path_factory.mktemp("candidates")
    fp32 = make_tiny_classifier(folder / "student.fp32.onnx", hidden=64)
    int8 = quantize_int8(fp32, folder / "student.int8.onnx")
    bundle = build_bundle(int8, minilm_tokenizer, folder / "bundle", ClassifierBundleConfig(max_length=64)).path
    return bundle, {"onnx fp32": fp32, "onnx int8": int8}


@pytest.mark.slow      # 30 s under qemu; the same comparison over ssh (below) runs in the default suite
def test_every_candidate_is_scored_and_timed_on_the_emulated_pi_and_copied_once(pi_root, candidates, tmp_path,
                                                                                 monkeypatch):
    from edge.device_compare import DeviceCompareConfig, host_probs, run_device_compare
    from edge.deploy.emulated import EmulatedPi

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))    # the device's scores are kept there
    bundle, models = candidates
    device, logs = EmulatedPi(pi_root), []
    config = DeviceCompareConfig(threads=(1,), rounds=1, repeats=1)     # two rounds: over ssh below
    report = run_device_compare(device, str(tmp_path / "device"), bundle, models, TEXTS, TEXTS[:2], config,
                                log=logs.append)
    assert report.machine == "aarch64" and report.emulated
    rows = {r["variant"]: r for r in report.rows}
    assert list(rows) == ["onnx fp32", "onnx int8"]
    assert rows["onnx fp32"]["ratio"][1] == (1.0, 1.0, 1.0) and rows["onnx int8"]["ratio"][1][0] > 0
    for name, row in rows.items():
        assert row["probs"].shape == (len(TEXTS), 2) and row["p50_ms"][1][0] > 0 and row["peak_rss_mb"] > 0
        # Arm's kernels: the same probabilities as the host's runtime, to rounding
        np.testing.assert_allclose(row["probs"], host_probs(bundle, models[name], TEXTS), atol=1e-4)
    assert len([line for line in logs if "copying" in line]) == 4   # the inputs scored, timed, two candidates
    logs.clear()
    rebuilt = tmp_path / "rebuilt"                                  # the same bundle built at another commit
    shutil.copytree(bundle, rebuilt)
    settings = json.loads((rebuilt / "config.json").read_text())
    (rebuilt / "config.json").write_text(json.dumps({**settings, "provenance": {"commit": "another"}}))
    again = run_device_compare(device, str(tmp_path / "device"), rebuilt, models, TEXTS, TEXTS[1:3],
                               DeviceCompareConfig(threads=(1,), speed=False), log=logs.append)
    copied = [line for line in logs if "copying" in line]          # the rest is there, complete
    assert len(copied) == 1 and "timed-" in copied[0]               # other texts timed: the scores are kept
    assert "ratio" not in again.rows[0] and again.machine == "aarch64"     # the device's, also when not timed
    np.testing.assert_array_equal(again.rows[1]["probs"], rows["onnx int8"]["probs"])   # kept, not rerun


def test_text_pairs_reach_the_device_as_pairs(tmp_path):
    from edge.device_compare import input_lines

    lines = input_lines([PAIRS[0], TEXTS[3]]).splitlines()
    assert json.loads(lines[0]) == {"text": PAIRS[0][0], "text_pair": PAIRS[0][1]}
    assert json.loads(lines[1]) == TEXTS[3]                        # non-ASCII kept as is


def test_a_folder_without_a_runtime_is_refused(tmp_path):
    from common.errors import UserError
    from edge.device_compare import variant_files

    (tmp_path / "model.onnx").write_bytes(b"x")
    with pytest.raises(UserError, match="not a distilled student.s bundle"):
        variant_files(tmp_path, tmp_path / "model.onnx")


def test_the_comparison_runs_over_ssh_on_a_real_openssh_server(local_sshd, candidates, tmp_path, monkeypatch):
    from edge.device_compare import DeviceCompareConfig, host_probs, run_device_compare
    from edge.deploy.ssh import SshDevice, parse_target

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    bundle, models = candidates
    options = local_sshd.options(python=sys.executable, setup_env=False)   # the device is this machine
    root = str(tmp_path / "pi")
    with SshDevice(parse_target(local_sshd.target), options, root) as device:
        report = run_device_compare(device.check_reachable(), root, bundle, models, TEXTS, TEXTS[:2],
                                    DeviceCompareConfig(threads=(1,), rounds=2, repeats=1), log=lambda *_: None)
    rows = {r["variant"]: r for r in report.rows}
    assert not report.emulated and rows["onnx fp32"]["ratio"][1] == (1.0, 1.0, 1.0)
    for spread in (rows["onnx int8"]["ratio"][1], rows["onnx int8"]["p50_ms"][1]):
        assert 0 < spread[1] <= spread[0] <= spread[2]             # two rounds: median between min and max
    np.testing.assert_allclose(rows["onnx fp32"]["probs"], host_probs(bundle, models["onnx fp32"], TEXTS), atol=1e-6)
    staged = sorted(p.name for p in (tmp_path / "pi" / "compare").iterdir())
    assert [name.rsplit("-", 1)[0] for name in staged] == ["onnx-fp32", "onnx-int8", "score", "timed"]  # no .incoming-
    batch = {name.rsplit("-", 1)[0]: json.loads((tmp_path / "pi" / "compare" / name / "config.json").read_text())
             ["batch_size"] for name in staged[:2]}
    assert batch == {"onnx-fp32": 8, "onnx-int8": 1}    # each candidate's own batch, whatever the bundle ships


def test_the_table_the_target_line_and_the_devices_pick_read_the_device_rows():
    from bench.edge_device import device_pick, format_table, target_lines
    from common.distill_set import DistillSet

    def row(name, score, ratio, p50, shipped=False):
        return {"variant": name, "size_mb": 10.0, "score": score, "host_score": score + 0.001, "shipped": shipped,
                "max_prob_diff": 2e-3,
                "p50_ms": {1: (p50, p50 - 1, p50 + 1)}, "ratio": {1: (ratio, ratio - 0.1, ratio + 0.1)},
                "peak_rss_mb": 120.0}

    rows = [row("onnx fp32", 0.965, 1.0, 30.0), row("onnx int8", 0.962, 3.2, 9.4, shipped=True),
            row("onnx int8 static", 0.940, 3.5, 8.6)]
    table = format_table(rows, (1,), "roc_auc")
    assert "| onnx int8 (shipped) | 10.0 | 0.9620 | 0.9630 | 2.0e-03 | 9.40 (8.40-10.40) | 3.20x (3.10-3.30) | 120 |" \
        in table

    def drop(fp32, score):        # roc_auc: higher is better
        return fp32 - score

    assert target_lines(rows, (1,), drop, 0.01) == [
        "shipped onnx int8 at 1t: 3.20x (3.10-3.30) its ONNX fp32 (target 3.0x), score drop +0.0030 (gate 0.01): met"]
    rows[1]["ratio"][1] = (2.4, 2.3, 2.5)
    assert target_lines(rows, (1,), drop, 0.01)[0].endswith("not met")
    assert target_lines(rows, (1,), drop, 0.01, emulated=True)[0].endswith("not judged (emulated: qemu's timings "
                                                                          "say nothing about a Pi)")
    teacher = [[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]
    ds = DistillSet(label_names=("human", "ai"), metric="roc_auc", inputs=TEXTS, soft_labels=teacher,
                    holdout_inputs=TEXTS, holdout_labels=[0, 1, 0, 1], holdout_teacher=teacher, teacher="t")
    # static is faster but lost 0.025 against fp32 on the device: the rule ships dynamic int8 there
    assert device_pick(rows, ds, (1,), 0.01, 0.02).startswith("onnx int8 (")
    for r in rows:
        r.pop("ratio")
    assert device_pick(rows, ds, (1,), 0.01, 0.02) is None and target_lines(rows, (1,), drop, 0.01) == []
    assert format_table(rows, (1,), "roc_auc").splitlines()[0] == \
        "| candidate | size MB | roc_auc here | roc_auc host | max prob. diff from host |"


@pytest.mark.slow      # 45 s under qemu; the classifier's candidates run over ssh in the default suite
def test_an_lm_feature_students_candidates_run_on_the_emulated_pi(pi_root, lm_feature_edge, tmp_path, monkeypatch):
    from edge.deploy.emulated import EmulatedPi
    from edge.device_compare import DeviceCompareConfig, host_probs, run_device_compare

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))    # the device's scores are kept there
    edge, ds = lm_feature_edge.report, lm_feature_edge.ds
    bundle = Path(edge.bundle["path"])
    models = {"onnx fp32": edge.files["fp32"], "onnx int4-q41": edge.files["onnx int4-q41"]}
    report = run_device_compare(EmulatedPi(pi_root), str(tmp_path / "device"), bundle, models, ds.holdout_inputs,
                                ds.holdout_inputs[:2], DeviceCompareConfig(threads=(1,), rounds=1, repeats=1),
                                log=lambda *_: None)
    assert report.machine == "aarch64"
    for row in report.rows:   # the head's balanced probabilities over every held-out pair, from Arm's kernels
        assert row["probs"].shape == (len(ds.holdout_inputs), len(ds.label_names)) and row["ratio"][1][0] > 0
        np.testing.assert_allclose(row["probs"], host_probs(bundle, models[row["variant"]], ds.holdout_inputs),
                                   atol=1e-3)
