"""`make edge --pick-on-device` (edge/device_pick.py): the shipped candidate picked on the device's
own scores and timings, end to end over a real OpenSSH server on loopback; the flag refused where it
cannot work, before any training."""
import dataclasses
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_onnx import TEXTS

from cli.main import main
from common.data import load_dataset
from common.distill_set import DistillSet
from common.errors import UserError
from common.registry import get_competition
from edge.classifier.distill import DistillConfig
from edge.config import EdgeConfig
from edge.pipeline import EdgeRun, run_edge, run_port
from fakes.essays import write_essays


def _config(tmp_path, **changes) -> EdgeConfig:
    return EdgeConfig(distill=DistillConfig(num_layers=1, max_length=32, epochs=1, batch_size=16,
                                            show_progress_bar=False), prune=None,
                      max_int8_drop=1.0, latency_texts=4, latency_rounds=1, out_dir=tmp_path / "edge", **changes)


@pytest.mark.slow      # 33 s: a student trained, its candidates compared and deployed over ssh; the refusals stay
def test_make_edge_picks_and_deploys_on_the_devices_numbers(local_sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))     # the device's scores are kept there
    comp = get_competition("detect-ai-text")
    data = load_dataset(comp, write_essays(tmp_path / "data", n_train=64, n_test=16))
    options = local_sshd.options(python=sys.executable, setup_env=False)   # the device is this machine
    config = _config(tmp_path, pick_on_device=True, ssh_options=options, deploy_root=str(tmp_path / "pi"))
    logs = []
    report = run_edge(comp, data, config, device=local_sshd.target, seed=1, options={"members": "tfidf_linear"},
                      log=logs.append)
    on_device = report.info["picked_on_device"]
    assert on_device["device"] == local_sshd.target and on_device["machine"] == platform.machine()
    rows = {r["variant"]: r for r in on_device["rows"]}
    assert list(rows) == ["onnx fp32", "onnx int8", "onnx int8 static"]
    assert rows["onnx fp32"]["speedup_1t"] == 1.0 and all(r["p50_1t_ms"] > 0 and r["p50_4t_ms"] > 0
                                                          for r in rows.values())
    # the device scored the same held-out split with the same runtime: the host's fp32 score
    assert rows["onnx fp32"]["score"] == pytest.approx(report.scores["onnx fp32"], abs=1e-4)
    shipped = report.info["shipped"]
    assert shipped in {"onnx int8", "onnx int8 static"} and report.info["shipped_why"].startswith(
        f"on {local_sshd.target} ({platform.machine()}): ")
    from edge.candidates import SPEED_TIE                           # the gate is 1.0 here: speed decides,
    fast = min(rows[label]["p50_1t_ms"] for label in ("onnx int8", "onnx int8 static"))   # then size
    tied = [label for label in ("onnx int8", "onnx int8 static") if rows[label]["p50_1t_ms"] <= fast * (1 + SPEED_TIE)]
    assert shipped == min(tied, key=lambda label: rows[label]["size_mb"])
    assert on_device["host_pick"] in {"onnx int8", "onnx int8 static"}
    assert "where the host picked" in report.summary and "on the device (" in on_device["table"]
    assert any(line.startswith("      on the host the rule ships") for line in logs)
    current = tmp_path / "pi" / "detect-ai-text" / "current"       # deployed with the same ssh options
    assert json.loads((current / "config.json").read_text())["provenance"]["shipped"] == shipped
    assert (current / "model.onnx").read_bytes() == Path(report.files[shipped]).read_bytes()
    staged = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "pi" / "compare").iterdir())
    assert staged == ["onnx-fp32", "onnx-int8", "onnx-int8-static", "score", "timed"]


def test_the_flag_without_a_device_stops_before_any_training(tmp_path, capsys):
    comp = get_competition("detect-ai-text")
    with pytest.raises(UserError, match="--pick-on-device needs --device USER@HOST"):
        run_edge(comp, None, _config(tmp_path, pick_on_device=True), device=None, log=lambda *_: None)
    assert main(["edge", "--comp", "detect-ai-text", "--pick-on-device", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "emulated Pi's timings are qemu's" in err[0]


def test_an_unreachable_device_stops_before_any_training(tmp_path):
    from edge.deploy.ssh import SshOptions

    config = _config(tmp_path, pick_on_device=True, ssh_options=SshOptions(connect_timeout=2))
    with pytest.raises(UserError, match="127.0.0.1"):
        run_edge(get_competition("detect-ai-text"), None, config, device="nobody@127.0.0.1:1", log=lambda *_: None)


def test_a_port_has_no_candidates_to_pick_from(tmp_path):
    config = _config(tmp_path, pick_on_device=True)
    with pytest.raises(UserError, match="science-exam ships one device program"):   # its spec says so: before
        run_edge(get_competition("science-exam"), None, config, device="nobody@127.0.0.1:1")   # reaching it
    comp = dataclasses.replace(get_competition("detect-ai-text"), slug="a-port")   # a spec that does not say
    run = EdgeRun(comp, _config(tmp_path, pick_on_device=True), tmp_path, "pi@host", True, {}, lambda *_: None)
    with pytest.raises(UserError, match="a-port ships one device program"):
        run_port(run, None)


def test_the_device_rows_are_scored_with_the_distill_sets_metric():
    from edge.candidates import pick_shipped
    from edge.device_pick import device_variant_rows, format_device_table

    teacher = [[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]
    ds = DistillSet(label_names=("human", "ai"), metric="roc_auc", inputs=TEXTS, soft_labels=teacher,
                    holdout_inputs=TEXTS[:4], holdout_labels=[0, 1, 0, 1], holdout_teacher=teacher, teacher="t")

    def row(name, probs, p50, ratio):
        return {"variant": name, "size_mb": 5.0, "probs": np.asarray(probs), "p95_ms": {1: p50 * 1.2, 4: p50},
                "p50_ms": {1: (p50, p50, p50), 4: (p50 / 2, p50 / 2, p50 / 2)}, "ratio": {1: (ratio, ratio, ratio)}}

    good, swapped = teacher, [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]   # swapped: AUC 0.25
    rows = device_variant_rows([row("onnx fp32", good, 30.0, 1.0), row("onnx int8", good, 12.0, 2.5),
                                row("onnx int8 static", swapped, 9.0, 3.3)], ds)
    assert [r.score for r in rows] == [1.0, 1.0, 0.25] and rows[2].accuracy == 0.5 and rows[1].p50_4t_ms == 6.0
    # static is the fastest on the device but lost 0.75 there: the rule ships dynamic int8
    assert pick_shipped(rows, ["onnx int8", "onnx int8 static"], ds, 0.01, 0.02).label == "onnx int8"
    table = format_device_table(rows, "roc_auc", "aarch64")
    assert "onnx int8 static       5.0     9.00    10.80     4.50     9.00   0.2500   0.5000   3.30" in table
