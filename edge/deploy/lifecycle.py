"""The device after a deploy: what is on it, rolling a competition back, running its bundle,
removing what the study and `make chat` staged there.

    from edge.deploy.lifecycle import (clean_staged, device_status, format_status, open_device, rollback_competition,
                                       run_current)
    with open_device("pi@raspberrypi.local") as (device, root):          # None: the emulated Pi
        print(format_status(device_status(device, root), device.name, root))
        rollback_competition(device, root, "detect-ai-text")              # -> ("v2", "v1")
        code, out, err = run_current(device, root, "detect-ai-text", "an essay\n", ["--json"])
        clean_staged(device, root)          # the study's and make chat's staged copies -> {area: (folders, MB)}

On the device every competition has its own folder (flow.comp_root), so a deploy or a rollback
of one never moves another's `current`:
    <root>/<slug>/versions/<v>/     complete, verified versions (MANIFEST.sha256, config.json)
    <root>/<slug>/current           -> versions/<v>
    <root>/envs/<hash>/             the Python venvs of a Pi over ssh, shared by every competition
Deploys made before these folders put every competition into one <root>/versions and one
<root>/current. Status still lists such a root, as the "old single-root layout" with each
version's provenance; rollback and run act on competition folders only, since an old bundle does
not record its competition, and they say so and name `make edge COMP=x`, which redeploys one into
its own folder. Nothing here moves or deletes the old root.
"""
from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError
from edge.deploy.flow import (RUNTIME, SAFE_SLUG, DeployError, Device, check_path, check_ssh_path, comp_root,
                              current_version, list_versions, rollback)
from edge.runtime.records import threads_problem

DEFAULT_SSH_ROOT = "kllm-edge"
# One listing of the whole device root: a record per version folder (the bytes of its files, as
# the bundle's total_bytes, then its config.json), then one per `current` link. A constant script;
# the root is its positional $1, and every path it prints starts with a slug or "versions".
STATUS = r'''cd -- "$1" 2>/dev/null || exit 0
for d in */versions/* versions/*; do
  [ -d "$d" ] || continue
  printf '@@version\t%s\t%s\n' "$d" "$(find "$d" -type f -printf '%s\n' | awk '{n += $1} END {print n + 0}')"
  if [ -f "$d/config.json" ]; then cat -- "$d/config.json"; echo; fi
done
for c in */current current; do
  if [ -L "$c" ]; then printf '@@current\t%s\t%s\n' "$c" "$(readlink -- "$c")"; fi
done
true'''

# What other commands copy under the root, outside any competition's versions: the compression
# study's models and runtimes (make bench BENCH=quant_device), `make chat`'s, the candidates a
# device comparison times (make bench BENCH=edge_device, make edge ARGS=--pick-on-device:
# edge/device_compare.py's COMPARE_DIR), and the Python envs.
STAGED_AREAS = ("study", "chat", "compare", "envs")
STAGED = r'''cd -- "$1" 2>/dev/null || exit 0
shift
for area in "$@"; do
  for d in "$area"/*; do
    [ -d "$d" ] && printf '%s\t%s\n' "$area" "$(du -sk -- "$d" | cut -f1)"
  done
done
true'''


@dataclass(frozen=True)
class VersionInfo:
    """One version folder: its name, size on the device, kind of bundle and provenance
    (config.json "provenance": competition, teacher, metric, scores, student, seed, commit, data,
    fast, shipped, and the teacher's experiment and options when it had any)."""

    name: str
    size_bytes: int
    kind: str = "?"
    provenance: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Deployment:
    """A competition's folder on the device (competition None: the old single-root layout).
    versions: oldest first. current: the version `current` names (None: no link)."""

    competition: str | None
    root: str
    current: str | None
    versions: list[VersionInfo]


@contextlib.contextmanager
def open_device(device: str | None = None, root: str | None = None, ssh_options=None, log=print):
    """Yield (Device, device root). device 'user@host[:port]': over ssh, root default kllm-edge
    in the login's home, reached once before anything else (a UserError if not); None: the
    emulated Pi, root default cache/emulated-pi/device. ssh_options: edge.deploy.ssh.SshOptions."""
    if device:
        from edge.deploy.ssh import SshDevice, SshOptions, parse_target

        target = parse_target(device)
        root = device_root(device, root)
        with SshDevice(target, ssh_options or SshOptions(), root) as reached:
            yield reached.check_reachable(), root
    else:
        from edge.deploy.emulated import EmulatedPi

        root = device_root(None, root)
        if Path(root).exists() and not Path(root).is_dir():
            raise UserError(f"device root {root} is a file, not a folder")
        yield EmulatedPi(log=log), root


def device_root(device: str | None = None, root: str | Path | None = None) -> str:
    """The device root a command uses, checked (a UserError if unsafe) before any work: over ssh
    `root` or kllm-edge, held to the ssh rules; on the emulated Pi `root` made absolute, or
    cache/emulated-pi/device.

        device_root(None)                        # -> "/home/me/My Kaggle/llm/cache/emulated-pi/device"
        device_root("pi@pi.local", "edge; id")   # UserError: unsafe device root
    """
    if device:
        return check_ssh_path(str(root or DEFAULT_SSH_ROOT), "device root")
    from edge.deploy.emulated import emulated_device_dir

    return check_path(str(Path(root).expanduser().resolve() if root else emulated_device_dir()), "device root")


def check_device_threads(device: Device, counts, flag: str = "--threads") -> None:
    """UserError when a thread count is more than the device's programs take (4 a core of the
    device: edge/runtime/records.py), asked of the device before anything is built or staged
    there; a device that cannot say (no getconf) leaves the check to those programs.

        check_device_threads(device, [1, 4])     # a Pi 5: up to 16
    """
    code, out, _ = device.run(["getconf", "_NPROCESSORS_ONLN"], timeout=60)   # what Python's os.cpu_count() reads
    try:
        cores = int(out.strip()) if code == 0 else 0
    except ValueError:
        cores = 0
    problem = threads_problem(list(counts), cores, flag, f"{device.name}'s") if cores > 0 else None
    if problem:
        raise UserError(problem)


def device_status(device: Device, root: str) -> list[Deployment]:
    """Every competition folder under `root` (by slug), then the old single-root layout if any."""
    root = check_path(root, "device root")
    code, out, err = device.run(["sh", "-c", STATUS, "sh", root], timeout=120)
    if code != 0:
        raise DeployError(f"cannot read {root} on {device.name}: {(err.strip() or f'exit {code}').splitlines()[-1]}")
    versions: dict[str | None, list[VersionInfo]] = {}
    currents: dict[str | None, str] = {}
    for record in re.split(r"^@@", out, flags=re.M)[1:]:
        head, _, body = record.partition("\n")
        tag, path, value = (head.split("\t") + ["", ""])[:3]
        parts = path.split("/")
        owner = parts[0] if len(parts) == (3 if tag == "version" else 2) else None
        if owner is not None and not SAFE_SLUG.match(owner):
            continue
        if tag == "version":
            versions.setdefault(owner, []).append(_version_info(parts[-1], value, body))
        elif tag == "current":
            currents[owner] = Path(value).name
    owners = sorted(set(versions) | set(currents), key=lambda o: (o is None, o or ""))
    return [Deployment(o, root if o is None else f"{root}/{o}", currents.get(o),
                       sorted(versions.get(o, []), key=lambda v: v.name)) for o in owners]


def staged_folders(device: Device, root: str) -> dict[str, tuple[int, float]]:
    """{area: (folders, MB)} of what make bench BENCH=quant_device and make chat copied under `root`
    (STAGED_AREAS; not versioned: clean_staged removes them), areas with nothing left out."""
    root = check_path(root, "device root")
    code, out, err = device.run(["sh", "-c", STAGED, "sh", root, *STAGED_AREAS], timeout=120)
    if code != 0:
        raise DeployError(f"cannot read {root} on {device.name}: {(err.strip() or f'exit {code}').splitlines()[-1]}")
    found: dict[str, tuple[int, float]] = {}
    for line in out.splitlines():
        area, _, kb = line.partition("\t")
        if area in STAGED_AREAS and kb.strip().isdigit():
            count, mb = found.get(area, (0, 0.0))
            found[area] = (count + 1, mb + int(kb) / 1024)
    return found


# What `kllm edge clean` removes by default: copies that are staged again, checked, when next needed.
# envs/ only when asked: every deployed bundle runs in one of them, and a Pi rebuilds it from PyPI.
CLEANABLE_AREAS = ("study", "chat", "compare")
REMOVE = r'''cd -- "$1" || exit 1
shift
rm -rf -- "$@"'''


def clean_staged(device: Device, root: str, areas: tuple[str, ...] = CLEANABLE_AREAS,
                 dry_run: bool = False) -> dict[str, tuple[int, float]]:
    """Remove the staged areas (STAGED_AREAS) named in `areas` under `root`, whole; returns
    staged_folders' {area: (folders, MB)} of what was removed (with dry_run: what would be).
    Competitions' versions and `current` links are never touched.

        clean_staged(device, root)                                  # study/, chat/ and compare/
        clean_staged(device, root, ("study", "chat", "envs"), dry_run=True)
    """
    unknown = [a for a in areas if a not in STAGED_AREAS]
    if unknown:
        raise UserError(f"cannot clean {', '.join(unknown)}: the staged areas are {', '.join(STAGED_AREAS)}")
    found = {area: size for area, size in staged_folders(device, root).items() if area in areas}
    if found and not dry_run:
        code, _, err = device.run(["sh", "-c", REMOVE, "sh", check_path(root, "device root"), *found], timeout=600)
        if code != 0:
            raise DeployError(f"cannot remove {', '.join(found)} under {root} on {device.name}: "
                              f"{(err.strip() or f'exit {code}').splitlines()[-1]}")
    return found


def _version_info(name: str, size: str, config_text: str) -> VersionInfo:
    try:
        config = json.loads(config_text) if config_text.strip() else {}
    except json.JSONDecodeError:
        config = {}
    config = config if isinstance(config, dict) else {}
    provenance = config.get("provenance") if isinstance(config.get("provenance"), dict) else {}
    kind = str(config.get("kind", "classifier" if config else "?"))  # format-1 classifiers had no "kind"
    return VersionInfo(name, int(size) if size.isdigit() else 0, kind, provenance)


def format_status(deployments: list[Deployment], device_name: str, root: str,
                  staged: dict[str, tuple[int, float]] | None = None) -> str:
    """The text `kllm edge status` prints: per competition its versions, `*` marking current; then
    what other commands copied there (staged_folders)."""
    lines = [f"{device_name}: {root}"]
    if staged:
        lines.append("also under the root, copied by make bench BENCH=quant_device, make chat and the device "
                     "comparisons (BENCH=edge_device, --pick-on-device) (not versioned; make edge-clean removes them): " + ", ".join(f"{area}/ {n} folder(s) {mb:.1f} MB"
                                                     for area, (n, mb) in staged.items()))
    if not deployments:
        return "\n".join(lines + ["nothing deployed (make edge COMP=x deploys one)"])
    for d in deployments:
        title = d.competition or "old single-root layout (one `current` for all competitions, left as it was)"
        lines.append(f"{title}: {len(d.versions)} version(s), current {d.current or 'none'}")
        if d.current and d.current not in {v.name for v in d.versions}:
            lines.append(f"  ! current names {d.current}, which is not on the device")
        for v in reversed(d.versions):
            p = v.provenance
            mark = "*" if v.name == d.current else " "
            lines.append(f"  {mark} {v.name}  {v.size_bytes / 1024 / 1024:.2f} MB  {v.kind}  "
                         f"commit {p.get('commit', '?')}" + (f"  ({p['competition']})" if d.competition is None
                                                             and p.get("competition") else ""))
            lines.append(f"      teacher: {p.get('teacher', '?')}" + (f" [{p['metric']}]" if p.get("metric") else "")
                         + (f"; {p['data']} data" if p.get("data") else "") + ("; --fast" if p.get("fast") else "")
                         + (f"; shipped {p['shipped']}" if p.get("shipped") else "")
                         + (f"; experiment {p['experiment']}" if p.get("experiment") else "")
                         + (f"; options {' '.join(f'{k}={v}' for k, v in p['options'].items())}"
                            if isinstance(p.get("options"), dict) and p["options"] else ""))
            scores = p.get("scores") or {}
            if scores:
                lines.append("      scores: " + ", ".join(f"{k} {_number(s)}" for k, s in scores.items()))
    return "\n".join(lines)


def _number(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else str(value)


def require_deployment(device: Device, root: str, competition: str) -> str:
    """The competition's folder on the device, or one UserError line saying why there is none."""
    folder = comp_root(root, competition)
    if list_versions(device, folder) or current_version(device, folder):
        return folder
    old = list_versions(device, root)
    hint = (f"; the {len(old)} version(s) of the old single-root layout there (kllm edge status lists "
            "them) do not record their competition" if old else "")
    raise UserError(f"{competition} is not deployed on {device.name} under {root} "
                    f"(make edge COMP={competition} deploys it){hint}")


def rollback_competition(device: Device, root: str, competition: str, to: str | None = None) -> tuple[str | None, str]:
    """Switch the competition's `current` to `to` (default: what the last deploy replaced, else the
    newest version older than current; edge.deploy.flow.rollback) after its
    checksums pass on the device. Returns (version before, version now); on any refusal a
    UserError and `current` unchanged."""
    folder = require_deployment(device, root, competition)
    before = current_version(device, folder)
    return before, rollback(device, folder, to)


def run_current(device: Device, root: str, competition: str, text: str, args: list[str] | tuple = (),
                timeout: float = 1800) -> tuple[int, str, str]:
    """The competition's current bundle's command line (flow.RUNTIME, as in the smoke test) on
    the device, `text` on its stdin, extra runtime flags `args` (e.g. ["--json"]).
    Returns (exit code, stdout, stderr) of the runtime."""
    folder = require_deployment(device, root, competition)
    version = current_version(device, folder)
    if not version:
        raise UserError(f"{competition} on {device.name} has versions but no `current`: "
                        f"kllm edge rollback --comp {competition} --to VERSION sets one")
    if version not in list_versions(device, folder):
        raise UserError(f"{competition}'s `current` on {device.name} names {version}, which is not on the device: "
                        f"kllm edge rollback --comp {competition} points it at a version that is")
    bundle = f"{folder}/versions/{version}"
    return device.run(device.python(bundle) + [RUNTIME, *args], cwd=bundle, timeout=timeout, input=text)
