"""Writer bundles (edge/writer/steps.py): built only when the device runtime writes the host's
outputs byte for byte; their smoke test, run as the device runs it, passes; the held-out rows
are written by each fold's own plan; the latency run reports the program's peak memory."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fake_specs import essay_port

from common.errors import UserError
from common.port_set import PortSet
from edge.bundle import verify_bundle
from edge.writer.steps import WriterSteps

PAIRS = [("One original.", "One rewrite."), ("Two original.", "Two rewrite."), ("Three.", "Three, rewritten.")]


def prompt_plan(text: str) -> dict:
    return {"variant": "mean_prompt", "mean_prompt": text,
            "rule": {"member": None, "mean_first": False, "floor": None}, "rule_text": "mean prompt alone"}


def prompt_port(**changes) -> PortSet:
    fields = dict(kind="prompt_writer", plan=prompt_plan("all train"), metric="sharpened_cosine", teacher="toy",
                  input_columns=("original_text", "rewritten_text"), output_column="rewrite_prompt",
                  inputs=PAIRS[:2], outputs=["all train"] * 2, holdout_inputs=PAIRS,
                  holdout_outputs=["fold a", "fold b", "fold a"], score=lambda outputs: 0.5,
                  holdout_plans=[(prompt_plan("fold a"), [0, 2]), (prompt_plan("fold b"), [1])])
    return PortSet(**(fields | changes))


def self_test(bundle) -> dict:
    done = subprocess.run([sys.executable, "-I", "detect.py", "--self-test"], cwd=bundle, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("make", [lambda: essay_port(None), prompt_port], ids=["essay_writer", "prompt_writer"])
def test_a_writer_bundle_passes_its_smoke_test_and_holds_no_model(make, tmp_path):
    ps = make()
    info = WriterSteps(ps).bundle(tmp_path / "bundle", {"competition": "x"})
    smoke = self_test(info.path)
    assert smoke["ok"] is True and smoke["mismatches"] == 0 and smoke["inputs"] == len(ps.inputs)
    assert smoke["onnxruntime"] is None and smoke["tokenizers"] is None  # a writer loads neither
    config = json.loads((info.path / "config.json").read_text())
    assert config["kind"] == ps.kind and config["output_column"] == ps.output_column
    assert not any(name.endswith(".onnx") for name in verify_bundle(info.path).files)
    assert info.total_bytes < 1024 * 1024


def test_a_bundle_that_does_not_reproduce_the_host_is_refused_and_the_old_one_stays(tmp_path):
    good = WriterSteps(prompt_port()).bundle(tmp_path / "bundle", {})
    with pytest.raises(UserError, match="does not reproduce the host: 1 of 2 outputs differ"):
        WriterSteps(prompt_port(outputs=["all train", "something else"])).bundle(tmp_path / "bundle", {})
    assert verify_bundle(tmp_path / "bundle").version == good.version


def test_held_out_rows_are_written_by_their_folds_plans_and_timed(tmp_path):
    steps = WriterSteps(prompt_port())
    bundle = steps.bundle(tmp_path / "bundle", {}).path
    assert steps.device_outputs(bundle) == ["fold a", "fold b", "fold a"]
    timing = steps.bench(bundle, tmp_path, repeats=2)
    assert timing["runs"] == 6 and 0 < timing["p50_ms"] <= timing["p95_ms"]
    assert 5 < timing["peak_rss_mb"] < 500


def test_a_port_set_checks_its_parts():
    with pytest.raises(UserError, match="cover every held-out row exactly once"):
        prompt_port(holdout_plans=[(prompt_plan("a"), [0, 1])])
    with pytest.raises(UserError, match="kind 'poem_writer'"):
        prompt_port(kind="poem_writer")
    with pytest.raises(UserError, match="inputs must be pairs"):
        prompt_port(inputs=["a text", "another"])
    with pytest.raises(UserError, match="outputs must be 2 strings"):
        prompt_port(outputs=["one"])
