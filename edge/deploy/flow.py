"""The deploy steps, the same for a Pi over ssh and for the emulated Pi.

    from edge.deploy.flow import comp_root, deploy_bundle
    result = deploy_bundle(device, Path("build/bundle"), root=comp_root("kllm-edge", "detect-ai-text"))
    result.version, result.previous, result.smoke["machine"]      # 'v20261122T134501Z-a1b2c3d4', ...

Each competition has its own folder under the device root (comp_root: <root>/<slug>), so a deploy
of one never moves another's `current`. Under that folder (`root` below):
    versions/.incoming-<v>-<r>/  the copy in progress, <r> random: two deploys of one version at once
                              never share it (a leftover one is harmless, never `current`)
    versions/<v>/             a complete copy whose checksums and smoke test passed
    current -> versions/<v>   switched by renaming a fresh symlink over it (`mv -T`), atomic

Order: copy into versions/.incoming-<v>-<r>, `sha256sum -c` there, smoke test there
(`detect.py --self-test`, RUNTIME), rename to versions/<v>, then switch `current`. Until that last
rename, `current` still names the old version, whatever fails or whoever kills the deploy.
A `Device` runs argument lists and copies folders (ssh.py, emulated.py). The two multi-command
steps (PREPARE, SWITCH) are constant `sh -c` scripts whose paths arrive as positional arguments,
so no path is ever pasted into shell text.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from common.errors import UserError
from edge.bundle import MANIFEST, verify_bundle

SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+-]+$")       # over ssh: scp's legacy protocol hands paths to a shell
CONTROL = re.compile(r"[\x00-\x1f\x7f]")              # the listings read the device's answers line by line
SAFE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
SAFE_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
RUNTIME = "detect.py"  # the bundle's command line: smoke test, bench, `kllm edge run`


class DeployError(UserError):
    """A deploy step failed on the device; `current` was left where it was."""


class Device(Protocol):
    """Where a bundle goes. run(): an argv in folder `cwd` on the device, `input` (text) on its
    stdin, returns (exit code, stdout, stderr). copy(): a local folder to a new device folder.
    python(): argv prefix that runs the device's Python for a bundle in `folder`. attach(): an argv
    on the device with this terminal's stdin and stdout (an interactive program), its exit code."""

    name: str

    def run(self, argv: list[str], cwd: str | None = None, timeout: float = 600,
            input: str | None = None) -> tuple[int, str, str]: ...

    def copy(self, local_dir: Path, remote_dir: str) -> None: ...

    def python(self, folder: str) -> list[str]: ...

    def attach(self, argv: list[str], cwd: str | None = None) -> int: ...


@dataclass(frozen=True)
class DeployResult:
    """version: folder name under versions/. previous: what `current` named before (None: first).
    smoke: the device's self-test report (machine, versions, max_abs_diff, or a writer's
    mismatches). seconds: wall time.
    bench: the on-device benchmark rows (`detect.py --bench`), when asked for."""

    device: str
    root: str
    version: str
    previous: str | None
    smoke: dict
    seconds: float
    bench: list[dict] = field(default_factory=list)


def check_path(path: str, what: str = "device path") -> str:
    """A device path: no control characters, no `..`, not starting with `-`. Spaces and letters
    beyond ASCII are fine (a checkout in `~/My Kaggle/`, whose emulated Pi lives in its cache):
    every command takes paths as arguments, never as shell text. A device reached over ssh is
    held to `check_ssh_path` as well."""
    if not path or CONTROL.search(path) or path.startswith("-") or ".." in path.split("/"):
        raise UserError(f"unsafe {what} {path!r}: no control characters, no '..', not starting with '-'")
    return path.rstrip("/") or "/"


def check_ssh_path(path: str, what: str = "device path") -> str:
    """A path on a device reached over ssh: letters, digits, `_ . / + -` only; no `..`, not
    starting with `-` (scp's legacy protocol hands the path to the device's shell)."""
    if not path or not SAFE_PATH.match(path) or path.startswith("-") or ".." in path.split("/"):
        raise UserError(f"unsafe {what} {path!r}: use letters, digits and _ . / + - (no '..')")
    return path.rstrip("/") or "/"


def check_version(version: str) -> str:
    if not SAFE_VERSION.match(version) or version.startswith("."):
        raise UserError(f"bad version name {version!r}: letters, digits, . _ - (up to 80)")
    return version


def comp_root(root: str, competition: str | None) -> str:
    """The folder of one competition's versions and `current`: <root>/<slug> (None: `root` itself,
    the single-root layout of deploys made before per-competition folders)."""
    root = check_path(root, "device root")
    if competition is None:
        return root
    if not SAFE_SLUG.match(competition):
        raise UserError(f"bad competition slug {competition!r}: lowercase letters, digits and -")
    return f"{root}/{competition}"


def new_version(bundle_version: str) -> str:
    """v<UTC time>-<bundle hash>: sorts by deploy time, names the content."""
    return f"v{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{bundle_version[:8]}"


def current_version(device: Device, root: str) -> str | None:
    code, out, _ = device.run(["readlink", f"{root}/current"])
    return Path(out.strip()).name if code == 0 and out.strip() else None


def list_versions(device: Device, root: str) -> list[str]:
    """Complete versions on the device, oldest first (incoming copies are not listed)."""
    code, out, _ = device.run(["ls", "-1", "--", f"{root}/versions"])
    return sorted(v for v in out.split() if not v.startswith(".")) if code == 0 else []


def _step(device: Device, what: str, argv: list[str], cwd: str | None = None, timeout: float = 600) -> str:
    code, out, err = device.run(argv, cwd=cwd, timeout=timeout)
    return _check_step(device, what, code, out, err)


def _check_step(device: Device, what: str, code: int, out: str, err: str) -> str:
    """`out` of a step that exited 0; else a DeployError naming the step and its last error line."""
    if code != 0:
        detail = (err.strip() or out.strip()).splitlines()[-1:] or ["no output"]
        raise DeployError(f"deploy to {device.name} failed at '{what}' (exit {code}): {detail[0]}")
    return out


def _smoke_report(device: Device, out: str) -> dict:
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise DeployError(f"deploy to {device.name}: the smoke test printed no JSON report") from None


# A killed deploy's copy is removed by the first deploy an hour later: a younger one may be another
# deploy's copy in progress (a folder's time is that of the last entry made in it).
PREPARE = ('mkdir -p -- "$1/versions" && { find "$1/versions" -mindepth 1 -maxdepth 1 '
           '-name ".incoming-*" -mmin +60 -exec rm -rf -- {} + || true; } '
           '&& { readlink -- "$1/current" || true; } && echo --- && ls -1 -- "$1/versions"')
SWITCH = 'ln -s -- "$2" "$1/$3" && mv -T -- "$1/$3" "$1/current" && readlink -- "$1/current"'


def switch_current(device: Device, root: str, version: str) -> None:
    """Point `current` at versions/<version>: a new symlink under a temp name, renamed over it.
    One `sh -c` with a constant script; the paths travel as its positional arguments."""
    tmp_link = f".current-{secrets.token_hex(4)}"
    out = _step(device, "switch", ["sh", "-c", SWITCH, "sh", root, f"versions/{version}", tmp_link])
    if Path(out.strip()).name != version:
        raise DeployError(f"deploy to {device.name}: `current` names {out.strip()!r}, not {version}")


def deploy_bundle(device: Device, bundle: Path, root: str, version: str | None = None,
                  keep: int = 5, bench_threads: str | None = None, bench_repeats: int = 10,
                  log=print) -> DeployResult:
    """Copy, verify, smoke-test, then switch `current`; keep the newest `keep` versions.
    bench_threads ("1,4"): afterwards run the on-device benchmark with those thread counts."""
    start = time.perf_counter()
    info = verify_bundle(Path(bundle))
    root = check_path(root, "device root")
    version = check_version(version or new_version(info.version))
    incoming, final = f"{root}/versions/.incoming-{version}-{secrets.token_hex(4)}", f"{root}/versions/{version}"
    out = _step(device, "prepare", ["sh", "-c", PREPARE, "sh", root])
    link, _, listing = out.partition("---\n")
    previous = Path(link.strip()).name or None
    if version in listing.split():
        raise DeployError(f"version {version} is already on {device.name}; deploy another name")
    log(f"deploy {version} -> {device.name}:{root} (current: {previous or 'none'})")
    try:
        device.copy(info.path, incoming)
        _step(device, "checksums", ["sha256sum", "--check", "--strict", "--quiet", MANIFEST], cwd=incoming)
        out = _step(device, "smoke test", device.python(incoming) + [RUNTIME, "--self-test"], cwd=incoming)
        smoke = _smoke_report(device, out)
        code, out, err = device.run(["mv", "-T", "--", incoming, final])
        if code != 0 and device.run(["test", "-d", final])[0] == 0:
            raise DeployError(f"version {version} was deployed to {device.name} by another run meanwhile "
                              "(`current` is left as that run set it); deploy another name")
        _check_step(device, "rename", code, out, err)
    except BaseException:
        device.run(["rm", "-rf", "--", incoming])
        raise
    switch_current(device, root, version)
    _mark_previous(device, root, previous, version)
    versions = sorted({v for v in listing.split() if not v.startswith(".")} | {version})
    removed = _prune(device, root, versions, keep, keep_also={version, previous})
    log(f"deployed {version} on {device.name} ({smoke.get('machine')}); {smoke_summary(smoke)}; "
        + (f"previous {previous} kept for rollback" if previous else "the first version here")
        + (f"; removed {len(removed)} older version(s), the device keeps the newest {keep}" if removed else ""))
    seconds = time.perf_counter() - start
    rows = bench_on_device(device, final, bench_threads, bench_repeats) if bench_threads else []
    return DeployResult(device.name, root, version, previous, smoke, seconds, rows)


def smoke_summary(smoke: dict) -> str:
    """The self-test's result in words: a classifier's largest probability difference, or how
    many of a writer's outputs differ from the host's (they must be the same text; a written
    essay's model instead gives the host's essay its log-probability within a tolerance)."""
    if "mismatches" in smoke:
        said = f"smoke {smoke['mismatches']} of {smoke.get('inputs')} outputs differ from the host's"
        if smoke.get("written"):
            said += (f" ({smoke['written']} written by the LM: its mean log-probability of the host's essay "
                     f"within {smoke['max_logprob_diff']:.2g} nats, tolerance {smoke['tolerance']:g})")
        return said
    return f"smoke max |diff| {smoke.get('max_abs_diff', float('nan')):.2e}"


def bench_on_device(device: Device, folder: str, threads: str = "1,4", repeats: int = 10) -> list[dict]:
    """`detect.py --bench` in a bundle folder on the device: one row per thread count, with
    p50_ms/p95_ms per text at batch 1, the machine, and a note when the device is emulated."""
    out = _step(device, "bench", device.python(folder) + [RUNTIME, "--bench", "--bench-threads", threads,
                                                          "--bench-repeats", str(repeats)], cwd=folder)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def failed_checksums(device: Device, folder: str) -> list[str]:
    """`sha256sum -c` of the manifest in a version folder on the device: [] when every file
    matches, else what failed (file names, or sha256sum's own complaint)."""
    code, out, err = device.run(["sha256sum", "--check", "--strict", "--quiet", MANIFEST], cwd=folder)
    if code == 0:
        return []
    failed = [line.rsplit(":", 1)[0] for line in out.splitlines() if line.endswith("FAILED") or "FAILED open" in line]
    return failed or [(err.strip() or out.strip() or f"exit {code}").splitlines()[-1]]


LAST_DEPLOY = "last-deploy"   # <root>/last-deploy: "<version it replaced> <version it deployed>"
MARK = 'printf "%s %s\\n" "$2" "$3" > "$1/last-deploy"'


def _mark_previous(device: Device, root: str, previous: str | None, version: str) -> None:
    """Remember what the deploy replaced, for a rollback without --to (none: forget any older
    mark). Best effort: the deploy has already switched `current`, so a failure here only leaves
    rollback to walk back by name."""
    if previous:
        device.run(["sh", "-c", MARK, "sh", root, previous, version])
    else:
        device.run(["rm", "-f", "--", f"{root}/{LAST_DEPLOY}"])


def _replaced_by_last_deploy(device: Device, root: str, now: str | None) -> str | None:
    """The version the last deploy replaced, while `current` is still what that deploy put there."""
    code, out, _ = device.run(["cat", "--", f"{root}/{LAST_DEPLOY}"])
    parts = out.split() if code == 0 else []
    return parts[0] if len(parts) == 2 and parts[1] == now else None


def rollback(device: Device, root: str, version: str | None = None) -> str:
    """Point `current` at `version` (default: the version the last deploy replaced; after a
    rollback, the newest one older than current, or the newest of all when current names no
    version there), only after its checksums pass on the device; a corrupted version is refused
    and `current` stays."""
    root = check_path(root, "device root")
    versions, now = list_versions(device, root), current_version(device, root)
    replaced = _replaced_by_last_deploy(device, root, now)
    if version is None and now in versions and replaced in versions and replaced != now:
        version = replaced
    if version is None:
        older = [v for v in versions if now not in versions or v < now]
        if not older:
            detail = f"older than {now}" if now in versions else "at all"
            raise UserError(f"no version {detail} in {root} on {device.name} to roll back to")
        version = older[-1]
    if check_version(version) not in versions:
        raise UserError(f"version {version} is not in {root} on {device.name}: have {', '.join(versions) or 'none'}")
    failed = failed_checksums(device, f"{root}/versions/{version}")
    if failed:
        raise DeployError(f"rollback to {version} refused: its files fail their sha256 checksums on {device.name} "
                          f"({', '.join(failed[:3])}{' ...' if len(failed) > 3 else ''}); current stays {now}")
    if version != now:
        switch_current(device, root, version)
        device.run(["rm", "-f", "--", f"{root}/{LAST_DEPLOY}"])   # the deploy it undid is no longer current
    return version


def _prune(device: Device, root: str, versions: list[str], keep: int, keep_also: set) -> list[str]:
    """Remove all but the newest `keep` versions (and keep_also); the removed ones."""
    old = [v for v in (versions[:-keep] if keep > 0 else []) if v not in keep_also]
    if old:
        device.run(["rm", "-rf", "--", *(f"{root}/versions/{v}" for v in old)])
    return old
