"""The compression study on the device (edge/generator/device_study.py, bench/quant_device.py) with
the tiny Llama's exports on the emulated Pi, and the runtime's --teacher-forced mode it runs there."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_llm import PROMPT

from edge.runtime.causal_lm import CausalLM

RUNTIME = Path(__file__).resolve().parents[3] / "edge" / "runtime" / "generate.py"


@pytest.fixture(scope="module")
def windows(tiny_exports) -> list[list[int]]:
    ids = CausalLM(tiny_exports["fp32"]).encode(PROMPT * 6)
    return [ids[:20], ids[20:44], ids[44:50]]


@pytest.mark.parametrize("steps", [False, True])
def test_teacher_forced_mode_prints_what_the_host_quality_measures(tiny_exports, windows, tmp_path, steps):
    from edge.generator.quality import teacher_forced

    (tmp_path / "w.json").write_text(json.dumps(windows))
    done = subprocess.run([sys.executable, str(RUNTIME), "--model", str(tiny_exports["int4"]), "--teacher-forced",
                           str(tmp_path / "w.json")] + (["--decode-steps"] if steps else []),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    host = teacher_forced(tiny_exports["int4"], windows, steps=steps)
    assert len(out["argmax"]) == sum(len(w) - 1 for w in windows) == host["nll"].size
    assert out["argmax"] == host["argmax"].tolist()
    np.testing.assert_allclose(out["nll"], host["nll"], atol=1e-5)


def test_decode_steps_without_windows_is_one_line_and_exit_2(tiny_exports):
    done = subprocess.run([sys.executable, str(RUNTIME), "--model", str(tiny_exports["fp32"]), "--prompt", "Hi",
                           "--decode-steps"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.strip() == "error: --decode-steps goes with --teacher-forced WINDOWS_JSON"


@pytest.mark.parametrize("content, message", [
    ("[[1]]", "each at least 2 long"), ("{\"a\": 1}", "JSON list"), (b"\xff\xfe", "cannot read windows")])
def test_bad_windows_are_one_line_and_exit_2(tiny_exports, tmp_path, content, message):
    path = tmp_path / "w.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    done = subprocess.run([sys.executable, str(RUNTIME), "--model", str(tiny_exports["fp32"]), "--teacher-forced",
                           str(path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow      # about a minute under qemu; the ssh test below runs the same flow in the default suite
def test_the_study_runs_on_the_emulated_pi_and_copies_each_folder_once(pi_root, tiny_exports, windows, tmp_path,
                                                                        monkeypatch):
    from edge.deploy.emulated import EmulatedPi

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))    # the device's results are kept there
    from edge.generator.device_study import DeviceStudyConfig, run_device_study
    from edge.generator.quality import teacher_forced

    device, logs = EmulatedPi(pi_root), []
    exports = {name: tiny_exports[name] for name in ("fp32", "int4")}
    host = {name: teacher_forced(folder, windows) for name, folder in exports.items()}
    config = DeviceStudyConfig(threads=(1,), rounds=1, new_tokens=4, prompt_tokens=16, bandwidth_mb=8)
    report = run_device_study(device, str(tmp_path / "device"), exports, windows, config,
                              host_quality=host, log=logs.append)
    assert report.machine == "aarch64" and report.emulated
    rows = {r["variant"]: r for r in report.rows}
    assert rows["fp32"]["agreement"] == 1.0 and rows["fp32"]["decode_ratio"][1] == (1.0, 1.0, 1.0)
    assert rows["fp32"]["host_agreement"] == 1.0 and 0 <= rows["int4"]["host_agreement"] <= 1
    tokens = sum(len(w) - 1 for w in windows)
    for row in rows.values():
        assert row["tokens"] == tokens and 0 <= row["argmax_unlike_host"] <= tokens
        assert row["perplexity"] > 1 and row["decode_tok_s"][1][0] > 0 and row["peak_rss_mb"] > 0
        assert row["read_gb_s"][1] == pytest.approx(row["decode_tok_s"][1][0] * row["weight_mb_per_token"] / 1e3)
        assert row["roofline"][1] == pytest.approx(row["read_gb_s"][1] / report.read_bandwidth_gb_s[1][0])
    assert report.read_bandwidth_gb_s[1][0] > 0                  # measured under qemu: a rate (rounds: over ssh below)
    # the tiny Llama's untied fp32 embedding is a table a Gather reads one row of: not counted
    assert rows["int4"]["weight_mb_per_token"] < 0.5 * rows["fp32"]["weight_mb_per_token"]
    # Arm's fp32 kernels round differently from x86's, but not by a whole argmax on these sharp logits
    assert rows["fp32"]["argmax_unlike_host"] == 0
    assert abs(rows["fp32"]["perplexity"] / rows["fp32"]["host_perplexity"] - 1) < 1e-3
    copies = [line for line in logs if "copying" in line]
    assert len(copies) == 3                                      # the runtime and two variants
    assert "steps_agreement" not in rows["int4"]
    logs.clear()
    again = run_device_study(device, str(tmp_path / "device"), exports, windows,
                             DeviceStudyConfig(threads=(1,), speed=False, decode_steps=True), log=logs.append)
    assert not [line for line in logs if "copying" in line]     # already there, complete
    steps = {r["variant"]: r for r in again.rows}               # one token a step on Arm, beside one pass
    assert steps["fp32"]["steps_agreement"] == 1.0 and steps["fp32"]["self_agreement"] == 1.0
    assert 0 <= steps["int4"]["steps_agreement"] <= 1 and 0 <= steps["int4"]["self_agreement"] <= 1
    assert steps["int4"]["agreement"] == rows["int4"]["agreement"]   # the one-pass results came from the cache


def test_a_copy_that_fails_its_checksums_is_never_renamed_into_place(pi_root, tiny_exports, tmp_path, monkeypatch):
    from common.errors import UserError
    from edge.deploy.emulated import EmulatedPi
    from edge.deploy.staging import stage_folder

    device = EmulatedPi(pi_root)
    real_copy = device.copy

    def corrupting_copy(local_dir, remote_dir):
        real_copy(local_dir, remote_dir)
        (Path(remote_dir) / "genai_config.json").write_text("{}")

    monkeypatch.setattr(device, "copy", corrupting_copy)
    remote = tmp_path / "device" / "study" / "variant"
    with pytest.raises(UserError, match="failed its checksums"):
        stage_folder(device, {"genai_config.json": tiny_exports["fp32"] / "genai_config.json"}, str(remote),
                     log=lambda *_: None)
    assert not remote.exists()


def test_the_table_the_targets_and_the_chart_read_the_device_rows(tmp_path):
    from bench.quant_device import format_table, save_chart, target_lines
    from edge.generator.device_study import DeviceStudyReport

    mb = {"fp32": 540.0, "int8": 150.0, "int4": 90.0, "int4-q41-fold": 120.0}

    def row(name, ppl, agreement, ratio):
        return {"variant": name, "size_mb": 1.0, "weight_mb_per_token": mb[name], "perplexity": ppl,
                "agreement": agreement, "tokens": 100, "decode_tok_s": {4: (10 * ratio, 9, 11)},
                "decode_ratio": {4: (ratio, ratio - 0.1, ratio + 0.1)}, "read_gb_s": {4: 10 * ratio * mb[name] / 1e3},
                "roofline": {4: 10 * ratio * mb[name] / 1e3 / 7.5},
                "prefill_tok_s": {4: 100.0}, "wall_s": {4: 1.0}, "peak_rss_mb": 300.0}

    report = DeviceStudyReport("aarch64", False, [row("fp32", 40.0, 1.0, 1.0), row("int8", 40.2, 0.96, 2.5),
                                                  row("int4", 52.0, 0.6, 4.5), row("int4-q41-fold", 40.3, 0.96, 4.2)])
    table = format_table(report, (4,))
    # int8 reads 150 MB a token 25 times a second: 3.75 GB/s against fp32's 5.4, under its 3.6x ceiling
    assert "| int8 | 1 | 150.0 | 3.60x | 40.20 (+0.5%) | 0.960 | - | - | - | 25.0 | 2.50x (2.40-2.60) | 3.8 | 50% |" in table
    assert save_chart(report, (4,), tmp_path / "timed.png").stat().st_size > 0   # ratios and ceilings drawn
    for r in report.rows:                                    # quality only: no speed columns
        for key in ("decode_tok_s", "decode_ratio", "read_gb_s", "roofline", "prefill_tok_s", "wall_s", "peak_rss_mb"):
            r.pop(key)
    assert format_table(report, (4,)).splitlines()[2] == "| fp32 | 1 | 540.0 | 1.00x | 40.00 (+0.0%) | 1.000 | - | - | - |"
    report.rows[1].update(steps_agreement=0.955, self_agreement=0.97)    # --decode-steps: two more columns
    table = format_table(report, (4,)).splitlines()
    assert table[0].endswith("| agreement one token a step | same argmax both ways |")
    assert table[3].endswith("| 0.960 | - | - | - | 0.955 | 0.970 |") and table[2].endswith("| - | - |")
    report.rows[1].pop("steps_agreement"), report.rows[1].pop("self_agreement")
    assert save_chart(report, (4,), tmp_path / "quality.png").stat().st_size > 0
    report.rows = [row("fp32", 40.0, 1.0, 1.0), row("int8", 40.2, 0.96, 2.5), row("int4", 52.0, 0.6, 4.5),
                   row("int4-q41-fold", 40.3, 0.96, 4.2)]
    lines = target_lines(report, (4,))
    assert lines == ["int8 at 4t: 2.50x (2.40-2.60) (target 2.29x, +2%, agreement 0.95; 3.60x if bound by memory "
                     "as fp32): met",
                     "best intact int4 at 4t: int4-q41-fold 4.20x (4.10-4.30) (target 4.0x; 4.50x if bound by memory "
                     "as fp32): met",
                     "int4 roofline at 4t: 54% of the device's read bandwidth (target 50%): met"]
    report.emulated = True                                   # qemu's timings judge nothing
    assert all(line.endswith("not judged (emulated: qemu's timings say nothing about a Pi)")
               for line in target_lines(report, (4,)))


def test_the_study_runs_over_ssh_on_a_real_openssh_server(local_sshd, tiny_exports, windows, tmp_path, monkeypatch):
    from edge.deploy.ssh import SshDevice, parse_target

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    from edge.generator.device_study import DeviceStudyConfig, run_device_study

    options = local_sshd.options(python=sys.executable, setup_env=False)   # the device is this machine
    root = str(tmp_path / "pi")
    config = DeviceStudyConfig(threads=(1,), rounds=2, new_tokens=4, prompt_tokens=16, bandwidth_mb=8)
    with SshDevice(parse_target(local_sshd.target), options, root) as device:
        report = run_device_study(device.check_reachable(), root, {n: tiny_exports[n] for n in ("fp32", "int4")},
                                  windows, config, log=lambda *_: None)
    rows = {r["variant"]: r for r in report.rows}
    assert not report.emulated and rows["fp32"]["agreement"] == 1.0
    assert rows["int4"]["decode_ratio"][1][0] > 0 and rows["int4"]["tokens"] == sum(len(w) - 1 for w in windows)
    assert rows["fp32"]["decode_ratio"][1] == (1.0, 1.0, 1.0)     # each round against its own fp32
    for spread in (report.read_bandwidth_gb_s[1], rows["int4"]["decode_ratio"][1], rows["int4"]["decode_tok_s"][1]):
        assert 0 < spread[1] <= spread[0] <= spread[2]             # two rounds: median between min and max
    copied = sorted(p.name for p in (tmp_path / "pi" / "study").iterdir())
    assert copied == sorted([tiny_exports["fp32"].name, tiny_exports["int4"].name, copied[-1]])
    assert copied[-1].startswith("runtime-")                       # and no .incoming- copy left behind


def test_int8_smooth_is_the_studys_own_calibrated_variant():
    from bench.quant_device import parse
    from edge.generator.study import StudyConfig, derived_variants
    from edge.generator.variants import SMOOTH, smooth_variant

    assert parse(["--variants", SMOOTH])[1] == ["fp32", SMOOTH]
    config = StudyConfig()
    derived = {v.name: v for v in derived_variants([0.0] * 4, [0.0] * 6, config, "calib-id")}
    assert derived[SMOOTH] == smooth_variant("calib-id", config.smooth)   # the same inputs, so the same cached folder
