"""Deploy a bundle to the emulated Raspberry Pi: a local device folder, the runtime under qemu.

    from edge.deploy.emulated import deploy_emulated
    result = deploy_emulated(Path("build/bundle"), competition="detect-ai-text")
    # -> cache_dir("emulated-pi")/device/detect-ai-text/{versions/<v>, current}
    result.smoke["machine"]                            # 'aarch64'

The same steps as a real Pi (edge/deploy/flow.py): versions/<v>, `sha256sum -c`, the smoke test
(`detect.py --self-test`, run by the arm64 Python 3.11 of edge/deploy/pi_root.py under
qemu-aarch64-static), then the atomic `current` switch. Emulation checks correctness only: its
timings say nothing about the speed of a Pi.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from common.cache_usage import KEEP_MARKER
from common.paths import cache_dir
from edge.deploy.flow import DeployError, DeployResult, check_path, comp_root, deploy_bundle
from edge.deploy.pi_root import PiRoot, ensure_pi_root

EMULATION_NOTE = "emulated Pi (qemu-user): correctness only; its timings say nothing about Pi speed"


class EmulatedPi:
    """A local folder that plays the device; commands run here, Python runs under qemu. Without a
    `root`, the emulated Pi's root is found (or built) the first time Python is needed, so reading
    the device folder (`kllm edge status`, rollback) needs no qemu."""

    def __init__(self, root: PiRoot | None = None, log=print):
        self._pi_root, self.log = root, log
        self.name = "emulated-pi (qemu aarch64)"

    @property
    def pi_root(self) -> PiRoot:
        if self._pi_root is None:
            self._pi_root = ensure_pi_root(log=self.log)
        return self._pi_root

    def run(self, argv: list[str], cwd: str | None = None, timeout: float = 600,
            input: str | None = None) -> tuple[int, str, str]:
        qemu = self._pi_root.qemu if self._pi_root else None
        env = self._pi_root.env() if qemu and argv[:1] == [qemu] else None
        try:
            done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, encoding="utf-8", errors="replace",
                                  timeout=timeout, input=input, stdin=subprocess.DEVNULL if input is None else None)
        except subprocess.TimeoutExpired:
            return 124, "", f"timed out after {timeout:g} s"
        except FileNotFoundError as exc:
            return 127, "", str(exc)
        return done.returncode, done.stdout, done.stderr

    def attach(self, argv: list[str], cwd: str | None = None) -> int:
        """Run `argv` with this terminal's stdin, stdout and stderr; its exit code."""
        qemu = self._pi_root.qemu if self._pi_root else None
        env = self._pi_root.env() if qemu and argv[:1] == [qemu] else None
        try:
            return subprocess.run(argv, cwd=cwd, env=env).returncode
        except FileNotFoundError as exc:
            raise DeployError(str(exc)) from None

    def copy(self, local_dir: Path, remote_dir: str) -> None:
        code, _, err = self.run(["cp", "-r", "--", str(local_dir), remote_dir])
        if code != 0:   # one line: cp names every file it could not write (a full disk: all of them)
            lines = err.strip().splitlines() or [f"exit {code}"]
            more = f" (and {len(lines) - 1} more like it)" if len(lines) > 1 else ""
            raise DeployError(f"copy to {remote_dir} failed: {lines[0]}{more}")

    def python(self, folder: str) -> list[str]:
        return self.pi_root.python_argv()


DEVICE_NOTE = ("the emulated Pi's device folder: its deployed versions are kept (make edge-clean removes its "
               "staged study/, chat/ and compare/ areas)")


def emulated_device_dir() -> Path:
    """The emulated Pi's default device folder, in the cache; once it exists, marked as state that
    `kllm cache prune` keeps (common.cache_usage.KEEP_MARKER)."""
    folder = cache_dir("emulated-pi") / "device"
    mark_kept(folder)
    return folder


def mark_kept(folder: Path) -> None:
    """Write KEEP_MARKER into an existing device folder that lacks it (best effort: a read-only
    cache still works, and the folder's `current` links keep it from a prune)."""
    marker = folder / KEEP_MARKER
    if folder.is_dir() and not marker.exists():
        try:
            marker.write_text(DEVICE_NOTE + "\n")
        except OSError:
            pass


def deploy_emulated(bundle: Path, device_dir: Path | None = None, version: str | None = None,
                    keep: int = 3, pi_root: PiRoot | None = None, bench_threads: str | None = None,
                    bench_repeats: int = 3, competition: str | None = None, log=print) -> DeployResult:
    """Build the emulated Pi if needed (about 20 s, once), then deploy `bundle` into
    `device_dir`/<competition> (None: `device_dir` itself, the old single-root layout).
    bench_threads ("1,4"): also run the on-device benchmark (rows carry the emulation note)."""
    device = EmulatedPi(pi_root or ensure_pi_root(log=log))
    device_dir = Path(check_path(str(Path(device_dir or emulated_device_dir()).resolve()), "device root"))
    device_dir.mkdir(parents=True, exist_ok=True)   # after the check: a refused root is never made
    if device_dir == emulated_device_dir().resolve():
        mark_kept(device_dir)
    result = deploy_bundle(device, bundle, comp_root(str(device_dir), competition), version=version, keep=keep,
                           bench_threads=bench_threads, bench_repeats=bench_repeats, log=log)
    log(EMULATION_NOTE)
    return result
