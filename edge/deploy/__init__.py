"""Ship a bundle to a device: a Raspberry Pi over ssh (`ssh.py`) or the emulated Pi (`emulated.py`).
Both run the same steps (`flow.py`): versioned folder, checksums, smoke test, atomic switch, in
one folder per competition. `lifecycle.py` reads the device afterwards: status, rollback, run.

    from edge.deploy.emulated import deploy_emulated
    from edge.deploy.ssh import deploy_ssh
    deploy_emulated(Path("build/bundle"), competition="detect-ai-text")           # qemu aarch64
    deploy_ssh(Path("build/bundle"), "pi@raspberrypi.local", competition="detect-ai-text", bench_threads="1,4")

Each returns an edge.deploy.flow.DeployResult; `edge/ship.py` picks one by the --device flag.
"""
