"""Deploy over ssh to a real OpenSSH server on loopback: versioned folders, checksums on the
device, smoke test, atomic `current` switch, and failures that leave the old version current."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from local_sshd import free_port

from common.errors import UserError
from edge.bundle import DEVICE_REQUIREMENTS, write_manifest
from edge.deploy.flow import SWITCH, DeployError, check_path, check_ssh_path, check_version, list_versions, rollback
from edge.deploy.ssh import SshDevice, SshOptions, deploy_ssh, parse_target

REPO = Path(__file__).resolve().parents[2]


def state(root: Path) -> tuple[str | None, list[str]]:
    """(version `current` names, complete version folders) read straight from the disk."""
    current = os.readlink(root / "current") if (root / "current").is_symlink() else None
    versions = sorted(p.name for p in (root / "versions").iterdir()) if (root / "versions").exists() else []
    return (Path(current).name if current else None), versions


def host_python(sshd, **overrides) -> SshOptions:
    """The device is this machine: run the runtime with this venv's Python, no venv setup."""
    return sshd.options(**{"python": sys.executable, "setup_env": False, **overrides})


@pytest.fixture(scope="module")
def v1_template(local_sshd, tiny_bundle, tmp_path_factory) -> Path:
    """A device folder with v1 deployed over ssh once; tests clone it (a local copy of a device)."""
    root = tmp_path_factory.mktemp("device") / "pi"
    deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v1")
    return root


@pytest.fixture
def device_on_v1(v1_template, tmp_path) -> Path:
    root = tmp_path / "pi"
    shutil.copytree(v1_template, root, symlinks=True)
    assert state(root) == ("v1", ["v1"])
    return root


@pytest.mark.parametrize("text, expected", [
    ("pi@raspberrypi.local", ("pi", "raspberrypi.local", 22)),
    ("pi@10.0.0.7:2222", ("pi", "10.0.0.7", 2222)),
    ("raspberrypi", (None, "raspberrypi", 22)),
    ("root@[::1]:2200", ("root", "[::1]", 2200)),
])
def test_parse_target(text, expected):
    t = parse_target(text)
    assert (t.user, t.host, t.port) == expected


@pytest.mark.parametrize("text", ["pi@host;rm -rf /", "-oProxyCommand=evil", "pi@host:99999", "pi@ho st",
                                  "", "pi@$(id)", "pi@host:22:33", "pi@-host"])
def test_parse_target_refuses_unsafe_names(text):
    with pytest.raises(UserError, match="bad device"):
        parse_target(text)


def test_a_password_typed_into_the_device_is_never_echoed():
    with pytest.raises(UserError) as refused:
        parse_target("pi:hunter2@host")
    assert "hunter2" not in str(refused.value) and "'pi:***@host'" in str(refused.value)


def test_paths_and_versions_are_validated():
    assert check_path("/home/pi/kllm-edge/") == check_ssh_path("/home/pi/kllm-edge/") == "/home/pi/kllm-edge"
    for bad in ("../etc", "a/../../b", "x;rm", "-rf", "$(id)", "a b", "~/edge", "", "caf\u00e9"):
        with pytest.raises(UserError, match="unsafe"):
            check_ssh_path(bad)                  # over ssh: what no remote shell can misread
    for bad in ("../etc", "a/../../b", "-rf", "", "a\nb", "a\tb"):
        with pytest.raises(UserError, match="unsafe"):
            check_path(bad)
    for spaced in ("/home/me/My Kaggle/llm \u00e9/cache/emulated-pi/device", "x;rm"):
        assert check_path(spaced) == spaced      # passed as arguments, never as shell text
    for bad in (".hidden", "a/b", "v1;id", "", "x" * 81):
        with pytest.raises(UserError, match="bad version"):
            check_version(bad)


def test_remote_command_quotes_every_word():
    device = SshDevice(parse_target("pi@pi.local"), SshOptions(), "edge")
    assert device.remote_command(["echo", "a b; rm -rf /", "$(id)"], cwd="edge/versions/v 1") == \
        "cd -- 'edge/versions/v 1' && echo 'a b; rm -rf /' '$(id)'"


def test_a_local_path_given_to_ssh_as_an_option_is_quoted_where_it_has_blanks():
    from edge.deploy.ssh import path_option

    assert path_option("ControlPath", "/tmp/kllm-ssh-x/%C") == "ControlPath=/tmp/kllm-ssh-x/%C"
    assert path_option("UserKnownHostsFile", Path("/home/me/My Documents/known_hosts")) == \
        'UserKnownHostsFile="/home/me/My Documents/known_hosts"'
    with pytest.raises(UserError, match="ssh cannot take a path with a double quote"):
        path_option("ControlPath", '/tmp/a "b"/%C')


def test_shell_metacharacters_reach_the_device_as_plain_text(local_sshd, tmp_path):
    payload = f"a b; touch {tmp_path}/pwned `touch {tmp_path}/pwned2` $(id) 'q' \"d\" \\ *"
    with SshDevice(parse_target(local_sshd.target), host_python(local_sshd), str(tmp_path)) as device:
        code, out, err = device.run(["printf", "%s", payload])
    assert (code, out) == (0, payload), err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_two_deploys_switch_current_and_keep_the_previous(local_sshd, tiny_bundle, tmp_path):
    root = tmp_path / "pi"
    first = deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v1")
    assert (first.version, first.previous) == ("v1", None)
    assert first.smoke["ok"] is True and first.smoke["machine"] == os.uname().machine
    assert state(root) == ("v1", ["v1"])
    second = deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v2")
    assert (second.version, second.previous) == ("v2", "v1")
    assert state(root) == ("v2", ["v1", "v2"])
    assert os.readlink(root / "current") == "versions/v2"  # relative: the folder can move
    done = subprocess.run(["sha256sum", "-c", "--quiet", "MANIFEST.sha256"], cwd=root / "current")
    assert done.returncode == 0
    with SshDevice(parse_target(local_sshd.target), host_python(local_sshd), str(root)) as device:
        assert list_versions(device, str(root)) == ["v1", "v2"]
        assert rollback(device, str(root)) == "v1" and state(root) == ("v1", ["v1", "v2"])
    with pytest.raises(DeployError, match="already on"):
        deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v2")


def test_default_version_names_sort_by_time_and_name_the_content(local_sshd, tiny_bundle, tmp_path):
    result = deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(tmp_path / "pi"))
    assert result.version.startswith("v20") and result.version.endswith("-" + result.version[-8:])
    assert state(tmp_path / "pi") == (result.version, [result.version])


class CorruptingDevice(SshDevice):
    """Flips a byte of model.onnx after the copy, as a bad transfer or SD card would."""

    def copy(self, local_dir, remote_dir):
        super().copy(local_dir, remote_dir)
        with open(Path(remote_dir) / "model.onnx", "r+b") as fh:
            fh.seek(100)
            byte = fh.read(1)
            fh.seek(100)
            fh.write(bytes([byte[0] ^ 0xFF]))


def deploy_with(device_class, sshd, bundle, root: Path, version: str, **options):
    from edge.deploy.flow import deploy_bundle

    with device_class(parse_target(sshd.target), host_python(sshd, **options), str(root)) as device:
        return deploy_bundle(device, bundle, str(root), version=version)


def test_checksum_failure_on_the_device_leaves_current(local_sshd, tiny_bundle, device_on_v1):
    root = device_on_v1
    with pytest.raises(DeployError, match="failed at 'checksums'"):
        deploy_with(CorruptingDevice, local_sshd, tiny_bundle, root, "v2")
    assert state(root) == ("v1", ["v1"])  # the incoming copy was removed too


def test_failing_smoke_test_leaves_current(local_sshd, tiny_bundle, device_on_v1, tmp_path):
    root = device_on_v1
    bad = tmp_path / "bad-bundle"
    shutil.copytree(tiny_bundle, bad)
    rows = [json.loads(line) for line in (bad / "smoke.jsonl").read_text().splitlines()]
    rows[0]["probs"] = [1.0 - p for p in rows[0]["probs"]]  # the device will not reproduce this
    (bad / "smoke.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_manifest(bad)
    with pytest.raises(DeployError, match="failed at 'smoke test'"):
        deploy_ssh(bad, local_sshd.target, host_python(local_sshd), root=str(root), version="v2")
    assert state(root) == ("v1", ["v1"])


class SecondDeployDuringCopy(SshDevice):
    """Another `make edge` of the same bundle, under the same version name, starts and finishes
    while this deploy's copy is on the device (two deploys in one second name one version)."""

    sshd = bundle = None

    def copy(self, local_dir, remote_dir):
        super().copy(local_dir, remote_dir)
        deploy_with(SshDevice, self.sshd, self.bundle, Path(self.root), "v2")


def test_two_deploys_of_one_version_at_once_never_cut_each_others_copy(local_sshd, tiny_bundle, device_on_v1,
                                                                        monkeypatch):
    root = device_on_v1
    monkeypatch.setattr(SecondDeployDuringCopy, "sshd", local_sshd)
    monkeypatch.setattr(SecondDeployDuringCopy, "bundle", tiny_bundle)
    with pytest.raises(DeployError, match="version v2 was deployed to .* by another run meanwhile"):
        deploy_with(SecondDeployDuringCopy, local_sshd, tiny_bundle, root, "v2")
    assert state(root) == ("v2", ["v1", "v2"])      # the other run's deploy, whole; no copy left behind


class InterruptedBeforeSwitch(SshDevice):
    """Ctrl-C arrives just before `current` is renamed: everything else has already happened."""

    def run(self, argv, cwd=None, timeout=600):
        if argv[:3] == ["sh", "-c", SWITCH]:
            raise KeyboardInterrupt
        return super().run(argv, cwd, timeout)


def test_interrupt_before_the_switch_leaves_current(local_sshd, tiny_bundle, device_on_v1):
    root = device_on_v1
    with pytest.raises(KeyboardInterrupt):
        deploy_with(InterruptedBeforeSwitch, local_sshd, tiny_bundle, root, "v2")
    current, versions = state(root)
    assert current == "v1" and "v2" in versions  # complete and verified, just not switched to
    assert not list(root.glob(".current-*"))


def test_killed_deploy_leaves_current(local_sshd, tiny_bundle, device_on_v1, tmp_path):
    """SIGKILL the deploying process while the device runs the smoke test (copy done, no switch)."""
    root, marker = device_on_v1, tmp_path / "smoke-started"
    slow_python = tmp_path / "slow-python"
    slow_python.write_text(f"#!/bin/sh\ntouch {marker}\nsleep 20\nexit 1\n")
    slow_python.chmod(0o755)
    script = ("import sys; from pathlib import Path; from edge.deploy.ssh import deploy_ssh, SshOptions; "
              "deploy_ssh(Path(sys.argv[1]), sys.argv[2], SshOptions(**__import__('json').loads(sys.argv[3])), "
              "root=sys.argv[4], version='v2')")
    options = dict(host_python(local_sshd, python=str(slow_python)).__dict__)
    # its own temp folder, with a blank in its name: ssh's ControlPath must be quoted, and the killed
    # process's connection folder is removed here, not left in the system's temp folder
    own_tmp = Path(tempfile.mkdtemp(prefix="kllm t "))
    try:
        proc = subprocess.Popen([sys.executable, "-c", script, str(tiny_bundle), local_sshd.target, json.dumps(options),
                                 str(root)], cwd=REPO, start_new_session=True, env={**os.environ, "TMPDIR": str(own_tmp)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the deploy never reached the smoke test"
        leftover, = (root / "versions").glob(".incoming-v2-*")
        assert (leftover / "model.onnx").exists()                  # copied, mid-deploy
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        shutil.rmtree(own_tmp, ignore_errors=True)
    assert state(root)[0] == "v1"
    with SshDevice(parse_target(local_sshd.target), host_python(local_sshd), str(root)) as device:
        assert list_versions(device, str(root)) == ["v1"]  # the leftover .incoming-v2-* is not a version
    retry = deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v2")
    assert retry.previous == "v1" and state(root) == ("v2", [leftover.name, "v1", "v2"])  # it may be another's copy
    two_hours_ago = time.time() - 7200
    os.utime(leftover, (two_hours_ago, two_hours_ago))
    deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version="v3")
    assert state(root) == ("v3", ["v1", "v2", "v3"])           # an hour old: a killed deploy's, removed


def test_unreachable_device_is_a_user_error(local_sshd, tiny_bundle, tmp_path):
    with pytest.raises(UserError, match="cannot reach"):
        deploy_ssh(tiny_bundle, f"{local_sshd.user}@127.0.0.1:{free_port()}", host_python(local_sshd),
                   root=str(tmp_path / "pi"))
    with pytest.raises(UserError, match="unsafe device root"):
        deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root="pi; rm -rf ~")


@pytest.mark.slow
def test_first_deploy_builds_the_python_env_from_requirements(local_sshd, tiny_bundle, tmp_path):
    """The real-Pi path: python3 -m venv + pip install of the pinned wheels (needs PyPI)."""
    root = tmp_path / "pi"
    result = deploy_ssh(tiny_bundle, local_sshd.target, local_sshd.options(python="python3"),
                        root=str(root), version="v1")
    assert result.smoke["ok"] and result.smoke["onnxruntime"] == DEVICE_REQUIREMENTS["onnxruntime"]
    envs = list((root / "envs").iterdir())
    assert len(envs) == 1 and (envs[0] / "bin" / "python").exists()


def test_old_versions_are_pruned_but_current_and_previous_stay(local_sshd, tiny_bundle, device_on_v1):
    root = device_on_v1
    said = []
    for version in ("v2", "v3"):
        deploy_ssh(tiny_bundle, local_sshd.target, host_python(local_sshd), root=str(root), version=version, keep=2,
                   log=said.append)
    assert state(root) == ("v3", ["v2", "v3"])
    assert said[-1].endswith("previous v2 kept for rollback; removed 1 older version(s), the device keeps the newest 2")
