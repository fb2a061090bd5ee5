"""Folders copied once to a device for measurements (the compression study, the detector's
candidates), and the JSON line a device command prints back.

    from edge.deploy.staging import stage_folder, run_json, run_json_lines, files_digest, device_slug
    stage_folder(device, {"model.onnx": Path("x/model.onnx")}, f"{root}/compare/int8-{digest}")  # True: copied
    out = run_json(device, "bench int8", device.python(folder) + ["detect.py", "--bench"], folder, 600)

A staged folder's name holds the hash of what it holds, and a folder of that name on the device is
complete: the copy lands in .incoming-<name>, passes `sha256sum -c` of its manifest, and only then
is renamed into place. So a rerun copies nothing, and an interrupted copy is never used.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from common.errors import UserError
from edge.bundle import write_manifest
from edge.deploy.flow import Device, check_path, failed_checksums


def run_json_lines(device: Device, what: str, argv: list[str], cwd: str, timeout: float) -> list[dict]:
    """Every JSON object line `argv` prints on the device; a UserError naming `what` and the
    device's last error line when it fails or prints none."""
    code, out, err = device.run(argv, cwd=cwd, timeout=timeout)
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if code != 0 or not rows:
        detail = ((err or "").strip() or out.strip() or f"exit {code}").splitlines()[-1]
        raise UserError(f"{what} on {device.name} failed (exit {code}): {detail}")
    return rows


def run_json(device: Device, what: str, argv: list[str], cwd: str, timeout: float) -> dict:
    """The last JSON object line of run_json_lines."""
    return run_json_lines(device, what, argv, cwd, timeout)[-1]


def stage_folder(device: Device, files: dict[str, Path], remote: str, log=print) -> bool:
    """Copy `files` ({name: local path}) to the device folder `remote` unless it exists; True when
    copied. The copy lands in .incoming-<name>, passes `sha256sum -c`, then is renamed."""
    remote = check_path(remote)
    if device.run(["test", "-d", remote])[0] == 0:
        return False
    parent, name = remote.rsplit("/", 1)
    incoming = f"{parent}/.incoming-{name}"
    device.run(["mkdir", "-p", "--", parent])
    device.run(["rm", "-rf", "--", incoming])
    stage_root = Path(next(iter(files.values()))).parent.parent   # same file system: hard links, no copies
    with tempfile.TemporaryDirectory(dir=stage_root if os.access(stage_root, os.W_OK) else None) as tmp:
        stage = Path(tmp) / name
        stage.mkdir()
        for file_name, path in files.items():
            try:
                os.link(path, stage / file_name)
            except OSError:
                shutil.copy2(path, stage / file_name)
        write_manifest(stage)
        log(f"staging: copying {name} to {device.name}")
        device.copy(stage, incoming)
    failed = failed_checksums(device, incoming)
    if failed:
        raise UserError(f"copy of {name} to {device.name} failed its checksums: {', '.join(failed[:3])}")
    code, _, err = device.run(["mv", "-T", "--", incoming, remote])
    if code != 0:
        raise UserError(f"cannot rename {incoming} on {device.name}: {err.strip()}")
    return True


def files_digest(files: dict[str, Path]) -> str:
    """12 hex digits of the names and bytes of `files`: the staged folder's name part."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + Path(files[name]).read_bytes())
    return h.hexdigest()[:12]


def device_slug(name: str) -> str:
    """A device's name as a file-name part (its kept results, its report folder)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)
