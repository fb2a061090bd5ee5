"""The classifier variants that edge.compare times and scores: the PyTorch student and ONNX models.

    runners = {"pytorch fp32": TorchRunner(student_dir, 128), "onnx int8": OnnxRunner(int8, tokenizer, 128)}
    runners["onnx int8"].set_threads(1); runners["onnx int8"].proba(inputs)    # (n, n_classes)

Both take texts or (text, text) pairs and give every class's probability.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.training.inputs import Inputs, tokenize


class TorchRunner:
    """The PyTorch fp32 student; `threads` sets torch's intra-op threads."""

    def __init__(self, student_dir: Path, max_length: int):
        from edge.classifier.distill import load_student

        self.model, self.tokenizer = load_student(student_dir)
        self.max_length = max_length
        self.size_bytes = sum(p.stat().st_size for p in Path(student_dir).glob("*.safetensors"))

    def set_threads(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)

    def proba(self, inputs: Inputs) -> np.ndarray:
        import torch

        enc = tokenize(self.tokenizer, inputs, self.max_length)
        with torch.inference_mode():
            return torch.softmax(self.model(**enc).logits, dim=-1).numpy()


class OnnxRunner:
    """An ONNX model under onnxruntime; a new session per thread count."""

    def __init__(self, path: Path, tokenizer, max_length: int):
        from edge.classifier.export import onnx_session
        from edge.quantize import ranges_span_the_batch

        self.path, self.tokenizer, self.max_length = Path(path), tokenizer, max_length
        self.size_bytes = self.path.stat().st_size
        self.session = onnx_session(self.path, threads=2)
        # scored as the bundle's runtime scores it: dynamic int8 one input at a time
        self.score_batch_size = 1 if ranges_span_the_batch(self.path) else None

    def set_threads(self, threads: int) -> None:
        from edge.classifier.export import onnx_session

        self.session = onnx_session(self.path, threads=threads)

    def proba(self, inputs: Inputs) -> np.ndarray:
        from edge.classifier.export import onnx_logits, softmax

        return softmax(onnx_logits(self.session, self.tokenizer, inputs, self.max_length))
