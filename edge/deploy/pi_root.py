"""A Debian bookworm arm64 userland that runs the device runtime under qemu-user: the emulated Pi.

    from edge.deploy.pi_root import ensure_pi_root
    root = ensure_pi_root()          # built once under cache_dir("emulated-pi"); later calls: instant
    subprocess.run(root.python_argv() + ["-c", "import platform; print(platform.machine())"],
                   env=root.env())   # -> aarch64

Steps (each leaves a stamp, so a crashed build resumes where it stopped):
1. debs: `apt-get download` of Python 3.11 and its libraries for arm64, with a private apt state
   folder and a source list made from this machine's Debian mirrors;
2. unpack: `dpkg -x` each .deb into ROOT;
3. wheels: `pip install --target ROOT/site` of the device requirements, aarch64 manylinux wheels;
4. cpuinfo: a Raspberry Pi 5 (Cortex-A76) /proc/cpuinfo at ROOT/proc/cpuinfo. qemu 7.2 shows the
   guest the host's x86 /proc/cpuinfo, and onnxruntime's cpuinfo parser then aborts at import;
   `-L ROOT` makes the guest read this file instead.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.cache_keys import json_key
from common.errors import UserError
from common.paths import cache_dir
from edge.bundle import DEVICE_PYTHON, DEVICE_REQUIREMENTS

# Python 3.11 and what its stdlib and the wheels link against; no dependency resolution, so the
# list is the whole root (about 25 MB of .debs).
PI_DEBS = (
    "libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libexpat1", "libssl3", "libffi8", "libbz2-1.0",
    "liblzma5", "libuuid1", "libcrypt1", "libsqlite3-0", "libtinfo6", "libncursesw6",
    "libreadline8", "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
    "python3-minimal",
)
WHEEL_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")
DEFAULT_MIRROR = ("http://deb.debian.org/debian", "bookworm", "main")
CORTEX_A76 = """processor\t: {n}
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x4
CPU part\t: 0xd0b
CPU revision\t: 1

"""
PI5_TAIL = "Revision\t: d04170\nSerial\t\t: 0000000000000000\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n"


@dataclass(frozen=True)
class PiRoot:
    """A built emulated-Pi root. qemu: the qemu-aarch64-static binary on this machine."""

    path: Path
    qemu: str

    def python_argv(self) -> list[str]:
        # -cpu cortex-a76: the Pi 5 core. qemu's default "max" CPU offers extensions (i8mm, SVE) the Pi
        # lacks, and onnxruntime's int8 kernels for them gave probabilities 0.07 off the x86 ones.
        return [self.qemu, "-cpu", "cortex-a76", "-L", str(self.path), str(self.path / "usr/bin/python3"), "-B"]

    def env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "PYTHONPATH": str(self.path / "site"), "KLLM_EMULATED": "1"}


def find_qemu(install: bool = True) -> str:
    """Path of qemu-aarch64-static; installs qemu-user-static with apt-get (as root) if missing."""
    found = shutil.which("qemu-aarch64-static")
    if found or not install:
        if not found:
            raise UserError("qemu-aarch64-static is not installed: run .ci/setup-edge.sh")
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise UserError("qemu-aarch64-static is missing and cannot be installed here "
                        "(needs root and apt-get): run `sudo .ci/setup-edge.sh`")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "qemu-user-static"]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(f"could not install qemu-user-static: {_last_line(done.stderr)}")
    found = shutil.which("qemu-aarch64-static")
    if not found:
        raise UserError("apt-get installed qemu-user-static but qemu-aarch64-static is not on PATH")
    return found


def ensure_pi_root(base: Path | None = None, log=print) -> PiRoot:
    """Build (or resume building) the emulated-Pi root; return it once it runs Python."""
    qemu = find_qemu()
    key = json_key([PI_DEBS, DEVICE_REQUIREMENTS, DEVICE_PYTHON, WHEEL_PLATFORMS, 2])
    path = Path(base or cache_dir("emulated-pi")) / f"bookworm-arm64-{key}"
    path.mkdir(parents=True, exist_ok=True)
    with _locked(path / ".lock"):
        steps = [("debs", _download_debs), ("unpack", _unpack_debs), ("wheels", _install_wheels),
                 ("cpuinfo", _write_cpuinfo)]
        todo = [(name, step) for name, step in steps if not (path / f".done-{name}").exists()]
        if todo:
            log(f"emulated Pi: building {path} (once; about 20-40 s)")
        for name, step in tqdm(todo, desc="emulated Pi", unit="step", disable=not todo):
            start = time.perf_counter()
            step(path)
            (path / f".done-{name}").write_text(f"{time.perf_counter() - start:.1f}\n")
            log(f"emulated Pi: {name} done in {time.perf_counter() - start:.1f} s")
    root = PiRoot(path, qemu)
    check = subprocess.run(root.python_argv() + ["-c", "import platform; print(platform.machine())"],
                           env=root.env(), capture_output=True, text=True, timeout=120)
    if check.returncode != 0 or check.stdout.strip() != "aarch64":
        raise UserError(f"emulated Pi at {path} does not run Python: {_last_line(check.stderr)}")
    return root


def build_seconds(root: PiRoot) -> float:
    """Seconds the build steps took when they ran (from their stamps)."""
    return sum(float(p.read_text()) for p in root.path.glob(".done-*"))


@contextlib.contextmanager
def _locked(lock_path: Path):
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def debian_sources() -> list[tuple[str, str, str]]:
    """(uri, suite, components) of this machine's Debian bookworm sources, one-line and deb822."""
    entries = []
    etc = Path("/etc/apt")
    one_line = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]
    for path in filter(Path.is_file, one_line):
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$", line.strip())
            if match:
                entries.append(match.groups())
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, flags=re.M))
            if "deb" not in fields.get("Types", "").split() or fields.get("Enabled", "yes") == "no":
                continue
            for uri in fields.get("URIs", "").split():
                for suite in fields.get("Suites", "").split():
                    entries.append((uri, suite, fields.get("Components", "main")))
    debian = [(u, s, c) for u, s, c in entries if "debian" in u and s.startswith("bookworm")]
    return debian or [DEFAULT_MIRROR]


def _apt_options(state: Path) -> list[str]:
    return ["-o", "APT::Architecture=arm64", "-o", "APT::Architectures=arm64",
            "-o", f"Dir::State={state / 'state'}", "-o", f"Dir::State::status={state / 'state/status'}",
            "-o", f"Dir::Cache={state / 'cache'}", "-o", f"Dir::Etc::SourceList={state / 'sources.list'}",
            "-o", f"Dir::Etc::SourceParts={state / 'sources.list.d'}",
            "-o", f"Dir::Etc::Preferences={state / 'preferences'}",
            "-o", f"Dir::Etc::PreferencesParts={state / 'preferences.d'}",
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-qq"]


def _download_debs(path: Path) -> None:
    state = path / "apt"
    for sub in ("state/lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d", "debs"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "state/status").touch()
    (state / "sources.list").write_text("".join(
        f"deb [arch=arm64] {uri} {suite} {components}\n" for uri, suite, components in debian_sources()))
    _run(["apt-get", *_apt_options(state), "update"], "apt-get update (arm64 lists)")
    _run(["apt-get", *_apt_options(state), "download", *PI_DEBS], "apt-get download (arm64 .debs)",
         cwd=state / "debs")


def _unpack_debs(path: Path) -> None:
    debs = sorted((path / "apt/debs").glob("*.deb"))
    if len(debs) < len(PI_DEBS):
        raise UserError(f"emulated Pi: expected {len(PI_DEBS)} .debs, found {len(debs)}")
    for deb in debs:
        _run(["dpkg", "-x", str(deb), str(path)], f"dpkg -x {deb.name}")
    python3 = path / "usr/bin/python3"
    if not python3.exists():
        python3.symlink_to(f"python{DEVICE_PYTHON}")


def _install_wheels(path: Path) -> None:
    target = path / "site"
    shutil.rmtree(target, ignore_errors=True)
    argv = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
            "--target", str(target), "--only-binary=:all:", "--python-version", DEVICE_PYTHON,
            "--implementation", "cp"]
    for tag in WHEEL_PLATFORMS:
        argv += ["--platform", tag]
    _run(argv + [f"{n}=={v}" for n, v in DEVICE_REQUIREMENTS.items()], "pip install aarch64 wheels")


def _write_cpuinfo(path: Path) -> None:
    (path / "proc").mkdir(exist_ok=True)
    (path / "proc/cpuinfo").write_text("".join(CORTEX_A76.format(n=n) for n in range(4)) + PI5_TAIL)


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"emulated Pi: {what} failed: {_last_line(done.stderr or done.stdout)}")


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no output)"
