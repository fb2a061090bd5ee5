"""Distill a competition's solution into a small model and ship it to a Raspberry Pi.

    make edge COMP=detect-ai-text                    # emulated aarch64 Pi (qemu-user)
    make edge COMP=detect-ai-text DEVICE=pi@raspberrypi.local

Device side: `edge.bundle.build_bundle` (model + tokenizer + runtime + pinned requirements +
sha256 manifest), `edge.deploy.ssh.deploy_ssh` and `edge.deploy.emulated.deploy_emulated`.
`edge/runtime/` is the on-device program; it imports only onnxruntime, tokenizers and numpy.
"""
