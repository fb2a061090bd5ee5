"""Deploy a bundle to a Raspberry Pi (or any Linux box) over ssh.

    from edge.deploy.ssh import deploy_ssh, SshOptions
    deploy_ssh(Path("build/bundle"), "pi@raspberrypi.local", competition="detect-ai-text")
    # -> ~/kllm-edge/detect-ai-text/{versions/<v>, current}
    deploy_ssh(bundle, "pi@10.0.0.7:2222", SshOptions(identity_file="~/.ssh/pi"), competition="predict-the-llm")

The device needs python3 (Raspberry Pi OS has 3.11), sha256sum and GNU coreutils. The first
deploy makes a venv at <root>/envs/<hash of requirements.txt> and pip-installs the pinned aarch64
wheels into it (needs PyPI from the Pi); later deploys with the same requirements, of any
competition, reuse it.
Every command is an argument list: ssh gets one remote command built with shlex.join, so each
word, host and path is quoted; hosts, users, ports and paths are validated before use.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from edge.deploy.flow import DeployResult, check_ssh_path, comp_root, deploy_bundle

TARGET = re.compile(r"^(?:(?P<user>[A-Za-z_][A-Za-z0-9_.-]{0,31})@)?"
                    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
                    r"(?::(?P<port>[0-9]{1,5}))?$")


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int = 22

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host.strip('[]')}" if self.user else self.host.strip("[]")


def parse_target(text: str) -> SshTarget:
    """'user@host[:port]' (IPv6 as [addr]) -> SshTarget; anything else is a UserError."""
    match = TARGET.match(text or "")
    port = int(match["port"]) if match and match["port"] else 22
    if not match or not 0 < port < 65536:
        user, at, host = (text or "").rpartition("@")
        shown = f"{user.split(':')[0]}:***{at}{host}" if ":" in user else text   # a password typed in: never echoed
        raise UserError(f"bad device {shown!r}: want user@host or user@host:port")
    return SshTarget(match["user"], match["host"], port)


@dataclass(frozen=True)
class SshOptions:
    """How to reach the device and run the bundle there.

    identity_file: private key (None: ssh's default keys and agent).
    known_hosts_file: None: ~/.ssh/known_hosts.
    strict_host_key_checking: "yes" | "accept-new" ("accept-new": trust on first deploy).
    connect_timeout: seconds (10).
    python: device Python used to create the venv ("python3").
    setup_env: make/reuse the venv from requirements.txt (True). False: run `python` directly,
        it must already import onnxruntime, tokenizers and numpy.
    """

    identity_file: str | None = None
    known_hosts_file: str | None = None
    strict_host_key_checking: str = "accept-new"
    connect_timeout: int = 10
    python: str = "python3"
    setup_env: bool = True


class SshDevice:
    """A device reached with the system's ssh and scp clients (BatchMode: never prompts). One
    multiplexed connection (ControlMaster) carries every command of a deploy; close() ends it.

        with SshDevice(parse_target("pi@pi.local"), SshOptions(), "kllm-edge") as device:
            device.run(["uname", "-m"])      # -> (0, "aarch64\n", "")
    """

    def __init__(self, target: SshTarget, options: SshOptions, root: str):
        if options.strict_host_key_checking not in ("yes", "accept-new"):
            raise UserError("strict_host_key_checking must be 'yes' or 'accept-new'")
        self.target, self.options, self.root = target, options, root
        self.name = f"{target.destination}:{target.port}"
        self._control_dir: str | None = None  # made on first use; short: socket paths max ~100 chars

    def __enter__(self) -> "SshDevice":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the shared connection and remove its socket folder."""
        if self._control_dir is None:
            return
        subprocess.run(["ssh", *self._common(), "-O", "exit", "-p", str(self.target.port), "--",
                        self.target.destination], capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
        shutil.rmtree(self._control_dir, ignore_errors=True)
        self._control_dir = None

    def _common(self) -> list[str]:
        o = self.options
        self._control_dir = self._control_dir or tempfile.mkdtemp(prefix="kllm-ssh-")
        args = ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={int(o.connect_timeout)}",
                "-o", f"StrictHostKeyChecking={o.strict_host_key_checking}",
                "-o", "ControlMaster=auto", "-o", path_option("ControlPath", f"{self._control_dir}/%C"),
                "-o", "ControlPersist=60"]
        if o.known_hosts_file:
            args += ["-o", path_option("UserKnownHostsFile", Path(o.known_hosts_file).expanduser())]
        if o.identity_file:
            args += ["-o", "IdentitiesOnly=yes", "-i", str(Path(o.identity_file).expanduser())]
        return args

    def remote_command(self, argv: list[str], cwd: str | None = None) -> str:
        command = shlex.join(argv)
        return f"cd -- {shlex.quote(cwd)} && {command}" if cwd else command

    def run(self, argv: list[str], cwd: str | None = None, timeout: float = 600,
            input: str | None = None) -> tuple[int, str, str]:
        ssh = ["ssh", *self._common(), "-p", str(self.target.port), "--", self.target.destination,
               self.remote_command(argv, cwd)]
        try:
            done = subprocess.run(ssh, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout,
                                  input=input, stdin=subprocess.DEVNULL if input is None else None)
        except subprocess.TimeoutExpired:
            return 124, "", f"timed out after {timeout:g} s"
        return done.returncode, done.stdout, done.stderr

    def attach(self, argv: list[str], cwd: str | None = None) -> int:
        """Run `argv` on the device with this terminal's stdin, stdout and stderr (a pseudo-terminal
        when stdin is one, so an interactive program answers line by line); its exit code."""
        tty = ["-t"] if sys.stdin is not None and sys.stdin.isatty() else []
        ssh = ["ssh", *self._common(), *tty, "-p", str(self.target.port), "--", self.target.destination,
               self.remote_command(argv, cwd)]
        return subprocess.run(ssh).returncode

    def check_reachable(self) -> "SshDevice":
        """One `true` over ssh; a UserError naming ssh's complaint when the device does not answer."""
        code, _, err = self.run(["true"], timeout=60)
        if code != 0:
            raise UserError(f"cannot reach {self.name} over ssh: {last_line(err)}")
        return self

    def copy(self, local_dir: Path, remote_dir: str) -> None:
        host = self.target.host if self.target.host.startswith("[") or ":" not in self.target.host \
            else f"[{self.target.host}]"  # scp wants an IPv6 address in brackets
        user = f"{self.target.user}@" if self.target.user else ""
        scp = ["scp", "-q", "-r", *self._common(), "-P", str(self.target.port), "--",
               str(local_dir), f"{user}{host}:{check_ssh_path(remote_dir)}"]
        done = subprocess.run(scp, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise UserError(f"copy to {self.name} failed: {last_line(done.stderr)}")

    def python(self, folder: str) -> list[str]:
        if not self.options.setup_env:
            return [self.options.python, "-B"]
        code, out, _ = self.run(["sha256sum", "requirements.txt"], cwd=folder)
        if code != 0:
            raise UserError(f"no requirements.txt in {folder} on {self.name}")
        env = f"{self.root}/envs/{out.split()[0][:12]}"
        code, _, _ = self.run([f"{env}/bin/python", "-c", "import onnxruntime, tokenizers, numpy"])
        if code != 0:
            for argv in ([self.options.python, "-m", "venv", "--clear", env],
                         [f"{env}/bin/pip", "install", "-q", "--no-deps", "--only-binary=:all:",
                          "-r", f"{folder}/requirements.txt"]):
                code, _, err = self.run(argv, timeout=1800)
                if code != 0:
                    raise UserError(f"python env on {self.name} failed: {last_line(err)}")
        return [f"{env}/bin/python", "-B"]


def deploy_ssh(bundle: Path, device: str, options: SshOptions | None = None, root: str = "kllm-edge",
               version: str | None = None, keep: int = 5, bench_threads: str | None = None,
               bench_repeats: int = 10, competition: str | None = None, log=print) -> DeployResult:
    """Deploy `bundle` to `device` ('user@host[:port]') under `root` (relative: the login's home),
    into <root>/<competition> (None: `root` itself, the old single-root layout).
    bench_threads ("1,4"): afterwards run the on-device benchmark on the Pi."""
    root = check_ssh_path(root, "device root")
    folder = comp_root(root, competition)
    with SshDevice(parse_target(device), options or SshOptions(), root) as target:
        return deploy_bundle(target.check_reachable(), bundle, folder, version=version, keep=keep,
                             bench_threads=bench_threads, bench_repeats=bench_repeats, log=log)


def path_option(name: str, path) -> str:
    """`-o NAME=PATH` as ssh reads it: ssh splits an option's value at blanks unless it is in double
    quotes (a TMPDIR or a known_hosts file under `My Documents/`).

        path_option("ControlPath", "/tmp/my dir/%C")    # -> 'ControlPath="/tmp/my dir/%C"'
    """
    text = str(path)
    if '"' in text:
        raise UserError(f"{name}: ssh cannot take a path with a double quote: {text}")
    return f'{name}="{text}"' if any(c.isspace() for c in text) else f"{name}={text}"


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"

