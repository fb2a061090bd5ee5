"""The classifier's device bundle: model, tokenizer, the runtime and what it needs to know.

    from edge.classifier.bundle import ClassifierBundleConfig, build_bundle
    info = build_bundle(Path("student.int8.onnx"), Path("student-folder"), Path("build/bundle"),
                        ClassifierBundleConfig(max_length=128, labels=("human", "ai"), positive_label="ai"))
    build_bundle(model, tokenizer, out, ClassifierBundleConfig(labels=("a", "b", "c"),
                 smoke_inputs=(("a question", "a response"), ...)))        # 3 classes, text pairs

The folder: model.onnx, tokenizer.json, config.json, detect.py (edge/runtime), smoke.jsonl (the
smoke inputs with every class probability computed here by the runtime itself; the device must
reproduce them), requirements.txt and MANIFEST.sha256 (edge/bundle.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from common.training.inputs import check_inputs, is_pairs
from edge.bundle import (DETECT_FILES, DEVICE_REQUIREMENTS, RUNTIME_DIR, BundleConfig, BundleInfo, assemble_bundle,
                         check_submission_columns, tokenizer_settings)
from edge.quantize import bundle_batch_size, bundle_smoke_tolerance

RUNTIME_FILES = DETECT_FILES
INPUTS = {"input_ids", "attention_mask", "token_type_ids"}
DEFAULT_SMOKE_TEXTS = (
    "The mitochondria is the powerhouse of the cell, and I think everyone should know that.",
    "In conclusion, there are many factors to consider when evaluating the benefits of "
    "extracurricular activities, and it is important to weigh them carefully.",
    "i dont really like when school start so early bc i am always tired in first period",
)


@dataclass
class ClassifierBundleConfig(BundleConfig):
    """BundleConfig (smoke_tolerance, max_file_mb, max_total_mb, provenance) plus:

    max_length: tokens per input after truncation (int, 256).
    labels: class names in logit order (("human", "ai")).
    positive_label: with two classes, the one whose probability the runtime prints (None: the last).
    threshold: two classes: probability at or above which `--json` names the positive label (0.5).
    smoke_inputs: what the device scores in its smoke test: texts, or (text, text) pairs for a
        model that reads pairs (that is how the bundle knows) (three short essays).
    submission: the Kaggle submission's id column, then one column for the positive class's
        probability (two classes) or one per label: a CSV input is answered in that form (()).
    """

    max_length: int = 256
    labels: tuple[str, ...] = ("human", "ai")
    positive_label: str | None = None
    threshold: float = 0.5
    smoke_inputs: tuple = DEFAULT_SMOKE_TEXTS
    submission: tuple[str, ...] = ()


def model_io(model: Path, n_labels: int) -> tuple[list[str], str, str]:
    """(input names, output name, "softmax" or "sigmoid") of an ONNX classifier with n_labels
    classes: a (batch, n_labels) output, or (batch, 1) for two classes."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types for unreadable models
        raise UserError(f"cannot load ONNX model {model}: {type(exc).__name__}") from None
    inputs = [i.name for i in session.get_inputs()]
    unknown = set(inputs) - INPUTS
    if unknown:
        raise UserError(f"model wants inputs the device runtime cannot build: {sorted(unknown)}")
    output = session.get_outputs()[0]
    width = output.shape[-1] if output.shape and isinstance(output.shape[-1], int) else None
    wanted = (1, 2) if n_labels == 2 else (n_labels,)
    if width not in wanted:
        raise UserError(f"model output {output.name} has shape {output.shape}; for {n_labels} labels want "
                        + " or ".join(f"(batch, {w})" for w in wanted))
    return inputs, output.name, "sigmoid" if width == 1 else "softmax"


def runtime_config(model: Path, tokenizer: Path, config: ClassifierBundleConfig) -> dict:
    """config.json of the bundle: what edge/runtime/detect.py reads."""
    labels = tuple(config.labels)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError(f"a classifier bundle needs 2 or more distinct labels, got {list(labels)}")
    positive = labels[-1] if config.positive_label is None else config.positive_label
    if positive not in labels:
        raise UserError(f"positive label {positive!r} is not among {list(labels)}")
    if not config.smoke_inputs:
        raise UserError("smoke_inputs is empty; the device smoke test needs inputs")
    smoke = check_inputs(config.smoke_inputs, "smoke_inputs")
    submission = check_submission_columns(config.submission, labels)
    inputs, output, kind = model_io(model, len(labels))
    _, pad_token, pad_id = tokenizer_settings(tokenizer)
    return {"format": 2, "kind": "classifier", "max_length": config.max_length, "labels": list(labels),
            "positive_index": labels.index(positive), "pairs": is_pairs(smoke), "output": kind,
            "output_name": output, "input_names": inputs, "threshold": config.threshold,
            "pad_token": pad_token, "pad_id": pad_id,
            "smoke_tolerance": bundle_smoke_tolerance(model, config.smoke_tolerance),
            "batch_size": bundle_batch_size(model),
            "requirements": DEVICE_REQUIREMENTS, "provenance": config.provenance,
            "submission": submission}


def write_smoke(folder: Path, smoke_inputs) -> None:
    """smoke.jsonl: each smoke input with the probabilities the runtime gives it in `folder`."""
    from edge.runtime.classifier import Classifier

    inputs = check_inputs(smoke_inputs, "smoke_inputs")
    probs = Classifier(folder, threads=1).predict_proba(inputs)
    rows = [{"text": x} if isinstance(x, str) else {"text": x[0], "text_pair": x[1]} for x in inputs]
    lines = [json.dumps(row | {"probs": [round(float(p), 8) for p in row_probs]})
             for row, row_probs in zip(rows, probs)]
    (Path(folder) / "smoke.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_bundle(model: Path, tokenizer: Path, out_dir: Path, config: ClassifierBundleConfig | None = None) -> BundleInfo:
    """Assemble, score the smoke inputs with the runtime itself, write the manifest, verify, swap in."""
    model, tokenizer = Path(model), Path(tokenizer)
    config = config or ClassifierBundleConfig()
    if not model.is_file():
        raise UserError(f"missing ONNX model: {model}")
    settings = runtime_config(model, tokenizer, config)
    copies = {"model.onnx": model, "tokenizer.json": tokenizer_settings(tokenizer)[0],
              **{name: RUNTIME_DIR / name for name in RUNTIME_FILES}}
    return assemble_bundle(out_dir, copies, {"config.json": json.dumps(settings, indent=2) + "\n"}, config,
                           finish=lambda folder: write_smoke(folder, config.smoke_inputs))
