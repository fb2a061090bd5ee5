"""A real OpenSSH server on 127.0.0.1, for the ssh deploy tests.

    with LocalSshd(tmp_path) as sshd:        # free port, throwaway host and user keys
        deploy_ssh(bundle, sshd.target, sshd.options(python=sys.executable, setup_env=False))

Everything lives in one temp folder: host key, user key, authorized_keys, known_hosts, config.
Runs Debian's /usr/sbin/sshd in the foreground (-D -e). It logs in as the user running the tests
(root in CI: PermitRootLogin prohibit-password, keys only). `unavailable()` says why it cannot run.
"""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from edge.deploy.ssh import SshOptions

SSHD = "/usr/sbin/sshd"
SETUP = Path(__file__).resolve().parents[2] / ".ci" / "setup-edge.sh"


def unavailable() -> str | None:
    """None when sshd and ssh can run here (installing them as root if missing), else why not."""
    if not (Path(SSHD).exists() and shutil.which("ssh") and shutil.which("scp")):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            subprocess.run(["bash", str(SETUP)], capture_output=True, timeout=900)
    if not Path(SSHD).exists():
        return f"{SSHD} is missing and could not be installed (run .ci/setup-edge.sh as root)"
    if not (shutil.which("ssh") and shutil.which("scp")):
        return "ssh/scp clients are missing (apt-get install openssh-client)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSshd:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.port = free_port()
        self.user = getpass.getuser()
        self.process: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def options(self, **overrides) -> SshOptions:
        base = dict(identity_file=str(self.folder / "id_user"), known_hosts_file=str(self.folder / "known_hosts"),
                    strict_host_key_checking="yes", connect_timeout=5)
        return SshOptions(**{**base, **overrides})

    def _keygen(self, name: str) -> str:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(self.folder / name)],
                       check=True, capture_output=True)
        return (self.folder / f"{name}.pub").read_text().strip()

    def __enter__(self) -> "LocalSshd":
        self.folder.mkdir(parents=True, exist_ok=True)
        host_pub, user_pub = self._keygen("host_key"), self._keygen("id_user")
        (self.folder / "authorized_keys").write_text(user_pub + "\n")
        (self.folder / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_pub}\n")
        sftp = next((p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server")
                     if Path(p).exists()), "internal-sftp")
        (self.folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey \"{self.folder / 'host_key'}\"\n"
            f"PidFile \"{self.folder / 'sshd.pid'}\"\nAuthorizedKeysFile \"{self.folder / 'authorized_keys'}\"\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"UsePAM no\nStrictModes no\nSubsystem sftp {sftp}\nLogLevel ERROR\n")
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation folder
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")],
                                        stdout=subprocess.DEVNULL, stderr=open(self.folder / "sshd.log", "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.folder / 'sshd.log').read_text().strip()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise RuntimeError("sshd did not listen within 10 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
