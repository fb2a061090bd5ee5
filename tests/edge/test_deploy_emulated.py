"""The emulated Raspberry Pi: a Debian bookworm arm64 Python under qemu-user runs the bundle.

The root is built from scratch under cache_dir("emulated-pi") when missing (about 20-40 s: apt
lists, 19 .debs, 3 wheels) and reused afterwards. Skips, with the reason printed, only when
qemu-user-static is missing and cannot be installed.
"""
from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from tiny_onnx import TEXTS

from common.errors import UserError
from edge.deploy.emulated import EMULATION_NOTE, EmulatedPi, deploy_emulated
from edge.deploy.flow import bench_on_device
from edge.deploy.lifecycle import run_current
from edge.deploy.pi_root import debian_sources
from edge.runtime.detect import Classifier


@pytest.fixture(scope="module")
def deployed(pi_root, tiny_int8_bundle, tmp_path_factory):
    """The int8 tiny bundle deployed as detect-ai-text to a fresh emulated device folder."""
    device_dir = tmp_path_factory.mktemp("emulated") / "My Kaggle \u00e9" / "device"   # a checkout where people keep one
    lines: list[str] = []
    result = deploy_emulated(tiny_int8_bundle, device_dir, version="v1", pi_root=pi_root,
                             competition="detect-ai-text", log=lines.append)
    return result, device_dir, lines


def test_the_emulated_pi_is_an_arm64_debian_python(pi_root):
    done = subprocess.run(pi_root.python_argv() + ["-c", "import platform, sys; print(platform.machine(), "
                                                   "sys.version_info[:2], open('/proc/cpuinfo').read().count('0xd0b'))"],
                          env=pi_root.env(), capture_output=True, text=True, timeout=120)
    assert done.stdout.split(maxsplit=1) == ["aarch64", "(3, 11) 4\n"]  # 4 Cortex-A76 cores seen
    assert (pi_root.path / "usr/lib/aarch64-linux-gnu").is_dir()


def test_deploy_runs_the_smoke_test_under_qemu_and_switches_current(deployed):
    result, device_dir, lines = deployed
    assert result.smoke["machine"] == "aarch64" and result.smoke["emulated"] is True
    assert result.smoke["ok"] is True and result.smoke["python"].startswith("3.11.")
    # int8 on the emulated Cortex-A76 = int8 on x86 (qemu's default "max" CPU gave 0.13 off)
    assert result.smoke["max_abs_diff"] < 1e-4
    folder = device_dir / "detect-ai-text"  # the competition's own folder
    assert (folder / "current").resolve() == folder / "versions" / "v1"
    assert any("aarch64" in line for line in lines) and lines[-1] == EMULATION_NOTE
    assert subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"],
                          cwd=folder / "current").returncode == 0


def test_emulated_probabilities_match_the_host_runtime(deployed, pi_root, tiny_int8_bundle):
    """`kllm edge run`'s path: the current bundle's runtime under qemu, the inputs on its stdin."""
    _, device_dir, _ = deployed
    texts = "".join(json.dumps(t) + "\n" for t in TEXTS)
    code, out, err = run_current(EmulatedPi(pi_root), str(device_dir), "detect-ai-text", texts,
                                 ["--format", "jsonl", "--json"])
    assert code == 0, err
    on_arm = np.array([json.loads(line)["prob_ai"] for line in out.splitlines()])
    np.testing.assert_allclose(on_arm, Classifier(tiny_int8_bundle).predict_proba(TEXTS)[:, 1], atol=1e-4)


@pytest.mark.slow
def test_emulated_bench_says_its_timings_are_not_pi_timings(deployed, pi_root):
    _, device_dir, _ = deployed
    rows = bench_on_device(EmulatedPi(pi_root), str(device_dir / "detect-ai-text" / "current"), threads="1,4",
                           repeats=1)
    assert [r["threads"] for r in rows] == [1, 4]
    assert all(r["machine"] == "aarch64" and r["note"].startswith("emulated under qemu") for r in rows)
    assert all(0 < r["p50_ms"] <= r["p95_ms"] for r in rows)


def test_sources_come_from_this_machines_debian_mirror():
    sources = debian_sources()
    assert sources and all("debian" in uri and suite.startswith("bookworm") for uri, suite, _ in sources)


def test_a_copy_the_device_folder_cannot_take_is_one_line(tmp_path, monkeypatch):
    from edge.deploy.flow import DeployError

    full = [f"cp: error writing '{tmp_path}/v/f{i}': No space left on device" for i in range(5)]
    monkeypatch.setattr(EmulatedPi, "run", lambda self, argv, **_: (1, "", "\n".join(full) + "\n"))
    with pytest.raises(DeployError) as refused:
        EmulatedPi().copy(tmp_path / "bundle", str(tmp_path / "v"))
    assert str(refused.value) == f"copy to {tmp_path / 'v'} failed: {full[0]} (and 4 more like it)"
