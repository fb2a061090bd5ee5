"""A classifier bundle run on the device: an encoder's ONNX session, its tokenizer, and class
probabilities from its logits; and the output line detect.py prints for them. Copied to the
device beside detect.py; imports only onnxruntime, tokenizers, numpy and the standard library.

    clf = Classifier(Path("bundle"), threads=1)
    probs = clf.predict_proba(["an essay", "another"])                  # (2, n_classes)
    format_row(0, probs[0], clf.labels, clf.positive_index, 0.5, as_json=True)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEFAULT_BATCH_SIZE = 8   # a bundle's config.json may say otherwise (1 for dynamic int8)
# onnxruntime 1.32's CPU SkipLayerNormalization is slower than the Add + LayerNormalization it
# replaces (the detector student: 0.93 against 0.21-0.38 ms a text, `make bench BENCH=encoder_fusions`):
# encoders are exported without it, and sessions must not fuse it back at load
ENCODER_DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


def encoder_session(model: Path, threads: int = 1, optimized_model_file: str | None = None):
    """An onnxruntime CPU session for an encoder (a classifier, a sentence encoder) at `threads`
    intra-op threads, with ENCODER_DISABLED_OPTIMIZERS off; optimized_model_file: also write the
    graph as optimized there (to inspect it).

        session = encoder_session(Path("bundle/model.onnx"), threads=1)
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if optimized_model_file:
        options.optimized_model_filepath = str(optimized_model_file)
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=ENCODER_DISABLED_OPTIMIZERS)


class Classifier:
    """A bundle loaded for inference.

        clf = Classifier(Path("bundle"), threads=1)
        clf.predict_proba(["some essay", "another"])     # -> np.ndarray (2, n_classes)
        clf.predict_proba([("a question", "a response")])   # a pair bundle

    config: the bundle's config.json as read (default: read it here). A model input the runtime
    cannot build raises ValueError.
    """

    def __init__(self, folder: Path, threads: int = 1, config: dict | None = None):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.config = config if config is not None else json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.labels = list(self.config["labels"])
        self.positive_index = int(self.config["positive_index"])
        self.pairs = bool(self.config.get("pairs", False))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(self.config["max_length"]))  # longest side first
        self.tokenizer.enable_padding(pad_id=int(self.config["pad_id"]), pad_token=self.config["pad_token"])
        self.session = encoder_session(folder / "model.onnx", threads)
        wanted = {i.name for i in self.session.get_inputs()}
        unknown = wanted - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ValueError(f"model wants inputs this runtime cannot build: {sorted(unknown)}")
        self.input_names = [n for n in self.config["input_names"] if n in wanted]

    def feeds(self, inputs: list) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch([tuple(x) if self.pairs else x for x in inputs])
        columns = {"input_ids": [e.ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.input_names}  # (B, T)

    def logits(self, inputs: list) -> np.ndarray:
        (out,) = self.session.run([self.config["output_name"]], self.feeds(inputs))
        return np.asarray(out, dtype=np.float64).reshape(len(inputs), -1)  # (B, K) or (B, 1)

    def predict_proba(self, inputs: list, batch_size: int | None = None) -> np.ndarray:
        """batch_size None: the bundle's (1 for dynamic int8, whose outputs would move with their
        batch; else DEFAULT_BATCH_SIZE)."""
        batch_size = batch_size or int(self.config.get("batch_size", DEFAULT_BATCH_SIZE))
        probs = [self._proba(self.logits(inputs[i:i + batch_size])) for i in range(0, len(inputs), batch_size)]
        return np.concatenate(probs) if probs else np.zeros((0, len(self.labels)))

    def _proba(self, logits: np.ndarray) -> np.ndarray:
        if self.config["output"] == "sigmoid":  # one logit: the positive class of two
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([p, 1 - p] if self.positive_index == 0 else [1 - p, p], axis=1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)  # (B, K)


def format_row(index: int, probs: np.ndarray, labels: list[str], positive_index: int, threshold: float,
               as_json: bool, key=None) -> str:
    """One output line for one input's class probabilities (see the module docstring); key: the
    input's id (a JSON line's or CSV row's "id"), kept in JSON output."""
    binary = len(labels) == 2
    p = float(probs[positive_index])
    if not as_json:
        return f"{p:.6f}" if binary else " ".join(f"{q:.6f}" for q in probs)
    row = {"index": index, **({} if key is None else {"id": key})}
    if binary:
        row[f"prob_{labels[positive_index]}"] = round(p, 8)
        row["label"] = labels[positive_index] if p >= threshold else labels[1 - positive_index]
    else:
        row["label"] = labels[int(np.argmax(probs))]
    row["probs"] = {name: round(float(q), 8) for name, q in zip(labels, probs)}
    return json.dumps(row)
