"""Ship a bundle to a device: a Raspberry Pi over ssh (`ssh.py`) or the emulated Pi (`emulated.py`).
Both run the same steps (`flow.py`): versioned folder, checksums, smoke test, atomic switch, in
one folder per competition. `lifecycle.py` reads the device afterwards: status, rollback, run.

    from edge.deploy import deploy
    deploy(Path("build/bundle"), competition="detect-ai-text")    # emulated Pi (qemu aarch64)
    deploy(Path("build/bundle"), "pi@raspberrypi.local", competition="detect-ai-text", bench_threads="1,4")
"""
from __future__ import annotations

from pathlib import Path


def deploy(bundle: Path, device: str | None = None, root: str | None = None, version: str | None = None,
           bench_threads: str | None = None, competition: str | None = None, log=print, **ssh_options):
    """`device` 'user@host[:port]' -> over ssh into `root` (default kllm-edge in its home);
    None -> the emulated Pi (device folder `root`, default cache_dir("emulated-pi")/device).
    competition: the slug whose folder under `root` receives the bundle (None: `root` itself).
    ssh_options: fields of edge.deploy.ssh.SshOptions. Returns edge.deploy.flow.DeployResult."""
    if device:
        from edge.deploy.ssh import SshOptions, deploy_ssh

        return deploy_ssh(Path(bundle), device, SshOptions(**ssh_options), root=root or "kllm-edge",
                          version=version, bench_threads=bench_threads, competition=competition, log=log)
    from edge.deploy.emulated import deploy_emulated

    return deploy_emulated(Path(bundle), Path(root) if root else None, version=version,
                           bench_threads=bench_threads, competition=competition, log=log)
