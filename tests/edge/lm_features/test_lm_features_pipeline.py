"""The lm_features student through the whole `make edge` flow on a tiny random Llama: features
computed by the device runtime's own code (tiny_llm: tests/edge/tiny_llm.py), a linear head fitted to the soft labels, the LM's
token statistics exported to ONNX (parity), int8, the bundle and its self-test run as the device
runs it."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.bundle import verify_bundle
from edge.runtime.detect import open_bundle


def test_lm_feature_student_ships_a_bundle_whose_self_test_passes(lm_feature_edge):
    report = lm_feature_edge.report
    assert report.info["kind"] == "lm_features" and report.info["gates"]["teacher_gap"] == 0.10
    assert report.parity_max_abs_diff < 1e-3
    assert report.scores["pytorch fp32"] == pytest.approx(report.scores["onnx fp32"], abs=1e-3)
    assert {"onnx int8", "onnx int4-q41"} <= set(report.scores) and report.info["shipped"] in report.scores
    assert set(report.info["accuracy"]) == set(report.scores)
    bundle = Path(report.bundle["path"])
    assert {"model.onnx", "tokenizer.json", "detect.py", "lm_features.py"} <= set(verify_bundle(bundle).files)
    settings = json.loads((bundle / "config.json").read_text())
    assert settings["kind"] == "lm_features" and settings["bundle_caps"]["max_total_mb"] == 400.0
    done = subprocess.run([sys.executable, "-I", "detect.py", "--self-test"], cwd=bundle, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    smoke = json.loads(done.stdout)
    assert smoke["ok"] is True and smoke["inputs"] == 3 and len(smoke["probs"][0]) == 3
    assert not (bundle / "__pycache__").exists()       # the manifest would no longer match the folder
    # the smoke group is one whole question: its balanced block has every class once
    np.testing.assert_allclose(np.asarray(smoke["probs"]).sum(axis=0), 1, atol=2e-2)
    lines = "".join(f"{q}\t{r}\n" for q, r in [("Which do you like?", "I like the stone stone stone a lot."),
                                               ("Which do you like?", "I like the apple a lot.")])
    done = subprocess.run([sys.executable, "-I", "detect.py", "--json"], cwd=bundle, input=lines, capture_output=True,
                          text=True, timeout=300)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and [list(r["probs"]) for r in rows] == [["apple", "river", "stone"]] * 2
    kaggle = "id,question,response\n71,Which do you like?,I like the apple a lot.\n9,Which do you like?,Stones.\n"
    done = subprocess.run([sys.executable, "-I", "detect.py", "--format", "csv"], cwd=bundle, input=kaggle,
                          capture_output=True, text=True, timeout=300)
    header, *rows = done.stdout.splitlines()                             # Kaggle's submission form, ids kept
    assert done.returncode == 0 and header == "id,apple,river,stone" and [r.split(",")[0] for r in rows] == ["71", "9"]
    clf = open_bundle(bundle)
    assert clf.features([("q", "a response")]).shape == (1, len(settings["feature_names"]))
