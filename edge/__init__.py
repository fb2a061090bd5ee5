"""Distill a competition's solution into a small model and ship it to a Raspberry Pi.

    make edge COMP=detect-ai-text                    # emulated aarch64 Pi (qemu-user)
    make edge COMP=detect-ai-text DEVICE=pi@raspberrypi.local

Organized by the kind of model shipped, around one shared flow (pipeline.py: teacher -> student
-> export -> parity -> quantize -> verify -> bundle -> deploy):

    classifier/   an encoder student over texts or text pairs, any number of classes; its
                  candidates: dynamic and static int8, and a block- and FFN-pruned int8 (prune.py)
    lm_features/  a tree or linear head over a causal LM's token statistics (predict-the-llm)
    writer/       no model: the host's plan, run as it is, writes text (adversarial-judge essays,
                  prompt-recovery prompts); the port flow in pipeline.py
    retriever/    an int8 encoder, a compact index and a causal LM option scorer (science-exam)
    generator/    a causal LM on the device: export by name (export.py: VARIANTS, build_named),
                  the compression study (study.py, `make bench BENCH=quant`) and its calibrations
                  and the chat turn a device answers in (chat.py, `make chat`)
    config.py     EdgeConfig and the score gates    ship.py     report on disk, bundle, deploy
    candidates.py the rule that picks what ships    compare.py  the size / latency / score table
    device_compare.py, device_pick.py  the same candidates scored and timed on the device itself
    quantize.py   int8 / int4 for any ONNX model    block_influence.py  ShortGPT's score, for pruning
    bundle.py     manifest, checks, pinned requirements, atomic build, for every kind
    deploy/       ssh to a Pi or the emulated Pi: versioned folder, checksums, smoke test, switch
    runtime/      the on-device program; imports only onnxruntime(-genai), tokenizers and numpy

A competition's edge spec returns a common.distill_set.DistillSet (labels, metric, inputs and
soft labels, a scored held-out split) or a common.port_set.PortSet (a plan, the host's outputs,
a scored held-out comparison); common/ and competitions/ never import edge/.
"""
