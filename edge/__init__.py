"""Distill a competition's solution into a small model and ship it to a Raspberry Pi.

    make edge COMP=detect-ai-text                    # emulated aarch64 Pi (qemu-user)
    make edge COMP=detect-ai-text DEVICE=pi@raspberrypi.local

Organized by the kind of model shipped, around one shared flow (pipeline.py: teacher -> student
-> export -> parity -> quantize -> verify -> bundle -> deploy):

    classifier/   an encoder student over texts or text pairs, any number of classes (today's path)
    generator/    a causal LM on the device (a later issue)
    retriever/    an encoder plus an index (a later issue)
    quantize.py   int8 / int4 for any ONNX model      compare.py  the size / latency / score table
    bundle.py     manifest, checks, pinned requirements, atomic build, for every kind
    deploy/       ssh to a Pi or the emulated Pi: versioned folder, checksums, smoke test, switch
    runtime/      the on-device program; imports only onnxruntime, tokenizers and numpy

A competition's edge spec returns a common.distill_set.DistillSet (labels, metric, inputs and
soft labels, a scored held-out split); common/ and competitions/ never import edge/.
"""
