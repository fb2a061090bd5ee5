"""The device's lifecycle over ssh (the loopback sshd of local_sshd.py): one folder per
competition, status, rollback after the checksums pass, running the current bundle; a corrupted
rollback target is refused and nothing on the device changes."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_onnx import PAIRS, TEXTS, make_tiny_classifier

from cli.main import main
from common.errors import UserError
from edge.classifier.bundle import ClassifierBundleConfig, build_bundle
from edge.deploy.flow import DeployError
from edge.device_compare import COMPARE_DIR
from edge.deploy.lifecycle import (check_device_threads, clean_staged, device_status, format_status, open_device,
                                   rollback_competition, run_current, staged_folders)
from edge.deploy.ssh import deploy_ssh

A, B = "detect-ai-text", "predict-the-llm"


def provenance(competition: str) -> dict:
    return {"competition": competition, "teacher": f"a rule for {competition}", "metric": "roc_auc",
            "scores": {"teacher": 0.91, "onnx int8": 0.9}, "commit": "abc123def456",
            **({"data": "sample"} if competition == A else {"data": "custom", "fast": True, "shipped": "onnx int8"})}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, minilm_tokenizer) -> dict[str, Path]:
    """A: the 2-class text classifier; B: the 3-class pair classifier; each records its provenance."""
    folder = tmp_path_factory.mktemp("lifecycle-bundles")
    a = build_bundle(make_tiny_classifier(folder / "a.onnx"), minilm_tokenizer, folder / "a",
                     ClassifierBundleConfig(max_length=64, provenance=provenance(A)))
    b = build_bundle(make_tiny_classifier(folder / "b.onnx", classes=3, seed=4), minilm_tokenizer, folder / "b",
                     ClassifierBundleConfig(max_length=32, labels=("gpt", "llama", "mistral"),
                                            smoke_inputs=tuple(PAIRS[:2]), provenance=provenance(B)))
    return {A: a.path, B: b.path}


def host_python(sshd):
    """The device is this machine: the runtime runs under this venv's Python, no venv setup."""
    return sshd.options(python=sys.executable, setup_env=False)


def deploy(sshd, bundles, root: Path, competition: str, version: str):
    return deploy_ssh(bundles[competition], sshd.target, host_python(sshd), root=str(root), version=version,
                      competition=competition, log=lambda *_: None)


@pytest.fixture(scope="module")
def template(local_sshd, bundles, tmp_path_factory) -> Path:
    """A device root with A v1, A v2 (current) and B p1 (current), deployed over ssh once."""
    root = tmp_path_factory.mktemp("lifecycle-device") / "edge"
    for competition, version in ((A, "v1"), (A, "v2"), (B, "p1")):
        deploy(local_sshd, bundles, root, competition, version)
    return root


@pytest.fixture
def device_root(template, tmp_path) -> Path:
    root = tmp_path / "edge"
    shutil.copytree(template, root, symlinks=True)
    return root


@pytest.fixture
def ssh(local_sshd, device_root):
    with open_device(local_sshd.target, str(device_root), host_python(local_sshd)) as (device, root):
        yield device, root


def snapshot(root: Path) -> dict[str, str]:
    """Every link's target and every file's sha256 under `root`: what 'nothing changed' compares."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def current(root: Path, competition: str) -> str:
    return Path(os.readlink(root / competition / "current")).name


def test_each_competition_has_its_own_folder_and_current(device_root):
    assert (current(device_root, A), current(device_root, B)) == ("v2", "p1")
    assert sorted(p.name for p in (device_root / A / "versions").iterdir()) == ["v1", "v2"]
    assert not (device_root / "current").exists() and not (device_root / "versions").exists()


def test_deploying_one_competition_leaves_the_others_current_intact(local_sshd, bundles, device_root):
    before = {k: v for k, v in snapshot(device_root).items() if k.startswith(A + "/")}
    deploy(local_sshd, bundles, device_root, B, "p2")
    assert current(device_root, B) == "p2"
    assert {k: v for k, v in snapshot(device_root).items() if k.startswith(A + "/")} == before


def test_status_lists_each_competition_with_versions_size_and_provenance(ssh):
    device, root = ssh
    deployments = device_status(device, root)
    assert [(d.competition, d.current, [v.name for v in d.versions]) for d in deployments] == \
        [(A, "v2", ["v1", "v2"]), (B, "p1", ["p1"])]
    v2 = deployments[0].versions[1]
    assert v2.kind == "classifier" and v2.provenance == provenance(A)
    assert v2.size_bytes == sum(p.stat().st_size for p in (Path(root) / A / "versions" / "v2").iterdir())
    text = format_status(deployments, device.name, root)
    assert f"{A}: 2 version(s), current v2" in text and f"{B}: 1 version(s), current p1" in text
    assert "* v2" in text and "commit abc123def456" in text and f"teacher: a rule for {A} [roc_auc]; sample data\n" in text
    assert f"teacher: a rule for {B} [roc_auc]; custom data; --fast; shipped onnx int8" in text
    assert staged_folders(device, root) == {}                            # nothing copied by the study or chat yet
    (Path(root) / "chat" / "model-1").mkdir(parents=True)
    (Path(root) / "chat" / "model-1" / "chat.json").write_text("{}")
    assert list(staged_folders(device, root)) == ["chat"] and staged_folders(device, root)["chat"][0] == 1
    assert list(clean_staged(device, root, dry_run=True)) == ["chat"] and (Path(root) / "chat").exists()
    assert list(clean_staged(device, root)) == ["chat"] and not (Path(root) / "chat").exists()   # over ssh
    (Path(root) / COMPARE_DIR / "int8-1a2b").mkdir(parents=True)                  # a device comparison's candidate
    assert list(staged_folders(device, root)) == [COMPARE_DIR] and list(clean_staged(device, root)) == [COMPARE_DIR]
    assert staged_folders(device, root) == {} and [d.competition for d in device_status(device, root)] == [A, B]
    with pytest.raises(UserError, match="cannot clean versions"):
        clean_staged(device, root, ("versions",))


def test_rollback_over_ssh_switches_current_back(ssh, device_root):
    device, root = ssh
    assert rollback_competition(device, root, A) == ("v2", "v1")
    assert (current(device_root, A), current(device_root, B)) == ("v1", "p1")
    with pytest.raises(UserError, match="no version older than v1"):
        rollback_competition(device, root, A)
    assert rollback_competition(device, root, A, to="v1") == ("v1", "v1")  # already current: no switch
    assert rollback_competition(device, root, A, to="v2") == ("v1", "v2") and current(device_root, A) == "v2"
    with pytest.raises(UserError, match="version v9 is not in"):
        rollback_competition(device, root, A, to="v9")
    assert (current(device_root, A), current(device_root, B)) == ("v2", "p1")


def test_a_current_link_to_a_missing_version_rolls_back_to_the_newest_one(ssh, device_root):
    device, root = ssh
    link = device_root / A / "current"
    link.unlink()
    link.symlink_to("versions/nonexist")      # e.g. a version folder deleted by hand
    with pytest.raises(UserError, match=f"{A}'s `current` on .* names nonexist, which is not on the device: "
                                        f"kllm edge rollback --comp {A} points it"):
        run_current(device, root, A, "text\n")
    assert rollback_competition(device, root, A) == ("nonexist", "v2") and current(device_root, A) == "v2"


def test_a_corrupted_target_version_is_refused_and_nothing_changes(ssh, device_root):
    device, root = ssh
    model = device_root / A / "versions" / "v1" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[100] ^= 0xFF
    model.write_bytes(bytes(data))
    before = snapshot(device_root)
    with pytest.raises(DeployError, match=r"rollback to v1 refused: .*\(model.onnx\); current stays v2"):
        rollback_competition(device, root, A)
    assert snapshot(device_root) == before


def test_run_prints_the_current_bundles_output(ssh, bundles, device_root):
    device, root = ssh
    code, out, err = run_current(device, root, A, "\n".join(TEXTS) + "\n", ["--json"])
    host = subprocess.run([sys.executable, "-B", "detect.py", "--json"], cwd=bundles[A], input="\n".join(TEXTS) + "\n",
                          capture_output=True, text=True, timeout=120)
    assert code == 0 and out == host.stdout and len(out.splitlines()) == len(TEXTS), err
    code, out, _ = run_current(device, root, B, "".join(f"{q}\t{r}\n" for q, r in PAIRS))
    assert code == 0 and [len(line.split()) for line in out.splitlines()] == [3] * len(PAIRS)
    code, out, err = run_current(device, root, A, "")
    assert (code, out) == (2, "") and "empty" in err


def test_the_cli_over_ssh(local_sshd, device_root, monkeypatch, capsys, tmp_path):
    """`kllm edge status | rollback | run --device U@H`; the test's sshd wants its own keys."""
    monkeypatch.setattr("edge.deploy.ssh.SshOptions", lambda: host_python(local_sshd))
    where = ["--device", local_sshd.target, "--root", str(device_root)]
    assert main(["edge", "status", *where]) == 0
    assert f"{A}: 2 version(s), current v2" in capsys.readouterr().out
    assert main(["edge", "rollback", "--comp", A, *where]) == 0
    assert "current v2 -> v1" in capsys.readouterr().out and current(device_root, A) == "v1"
    essays = tmp_path / "essays.txt"
    essays.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    assert main(["edge", "run", "--comp", A, str(essays), *where]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(TEXTS)
    (device_root / A / "versions" / "v2" / "tokenizer.json").write_text("{}")
    before = snapshot(device_root)
    assert main(["edge", "rollback", "--comp", A, "--to", "v2", *where]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused" in err and "tokenizer.json" in err and "Traceback" not in err
    assert snapshot(device_root) == before


def test_an_old_single_root_layout_is_listed_but_not_taken_for_a_competition(local_sshd, bundles, tmp_path):
    root = tmp_path / "old"
    deploy_ssh(bundles[A], local_sshd.target, host_python(local_sshd), root=str(root), version="v0",
               log=lambda *_: None)  # no competition: the layout before per-competition folders
    deploy(local_sshd, bundles, root, B, "p1")
    with open_device(local_sshd.target, str(root), host_python(local_sshd)) as (device, device_root):
        deployments = device_status(device, device_root)
        assert [(d.competition, d.current) for d in deployments] == [(B, "p1"), (None, "v0")]
        assert "old single-root layout" in format_status(deployments, device.name, device_root)
        with pytest.raises(UserError, match=f"{A} is not deployed .* old single-root layout"):
            rollback_competition(device, device_root, A)
        with pytest.raises(UserError, match=f"{A} is not deployed"):
            run_current(device, device_root, A, "text\n")


def test_rollback_without_a_target_undoes_the_last_deploy_then_walks_back(ssh, device_root, local_sshd, bundles):
    device, root = ssh
    assert rollback_competition(device, root, A, to="v1") == ("v2", "v1")   # an older bundle runs a while
    deploy(local_sshd, bundles, device_root, A, "v3")                         # "previous v1 kept for rollback"
    assert rollback_competition(device, root, A) == ("v3", "v1")             # what that deploy replaced, not v2
    with pytest.raises(UserError, match="no version older than v1"):         # then back in version order
        rollback_competition(device, root, A)
    assert rollback_competition(device, root, A, to="v3") == ("v1", "v3")
    assert rollback_competition(device, root, A) == ("v3", "v2") and current(device_root, A) == "v2"


class CoresDevice:
    """A device whose getconf answers `answer` (exit code, stdout)."""
    name = "pi@host"

    def __init__(self, code: int, out: str):
        self.answer, self.asked = (code, out, ""), []

    def run(self, argv, cwd=None, timeout=600, input=None):
        self.asked.append(argv)
        return self.answer


def test_thread_counts_are_checked_against_the_devices_own_cores():
    four = CoresDevice(0, "4\n")
    check_device_threads(four, [1, 16])
    assert four.asked == [["getconf", "_NPROCESSORS_ONLN"]]
    with pytest.raises(UserError, match=r"^--threads 17 is more than pi@host's 4 cores can use \(at most 16, 4 a core\)$"):
        check_device_threads(four, [1, 17, 64])
    for silent in (CoresDevice(127, ""), CoresDevice(0, "four"), CoresDevice(0, "0")):
        check_device_threads(silent, [1000])                 # cannot tell: the device program's own check stays


def test_the_emulated_pi_counts_this_machines_cores_over_ssh_the_pis(local_sshd, device_root):
    limit = 4 * (os.cpu_count() or 1)
    with open_device(None, str(device_root)) as (device, _):
        check_device_threads(device, [limit])
        with pytest.raises(UserError, match=f"--threads {limit + 1} is more than emulated-pi"):
            check_device_threads(device, [limit + 1])
    with open_device(local_sshd.target, str(device_root), host_python(local_sshd)) as (device, _):
        with pytest.raises(UserError, match=f"--threads {limit + 1} is more than .*'s {os.cpu_count()} cores"):
            check_device_threads(device, [limit + 1])
