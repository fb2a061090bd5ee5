"""The classifier kind: a small encoder student (MiniLM cut to a few layers) distilled from a
competition's teacher over texts or text pairs, for any number of classes.

    distill.py   DistillConfig (a common.training TrainConfig), the KL trainer, the student cache
    export.py    ONNX export, CPU fusion and the parity check against PyTorch
    runners.py   the PyTorch and ONNX variants the comparison table times and scores
    bundle.py    config.json, smoke.jsonl and files for the device runtime (edge/runtime/detect.py)
    steps.py     the five steps edge/pipeline.py runs for this kind

The competition hands over a common.distill_set.DistillSet; see edge/pipeline.py for the flow.
"""
