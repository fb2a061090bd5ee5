"""A tiny ONNX text classifier for the edge tests, written node by node with onnx.helper (no torch
export, under a second): embeddings of input_ids + token_type_ids -> tanh -> mean over the
attention mask -> linear -> logits. Pair it with the real MiniLM tokenizer.json.

    from tiny_onnx import make_tiny_classifier, TEXTS, PAIRS   # tests/edge is on sys.path under pytest
    make_tiny_classifier(tmp_path / "tiny.onnx", classes=2)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TEXTS = [
    "The industrial revolution changed how people worked and lived in cities.",
    "As an AI language model, I can provide a balanced overview of the topic.",
    "my dog ate my homework again lol, i swear its true",
    "Überraschung: naïve café owners serve crème brûlée — 😀 emoji too.",
]
PAIRS = [
    ("Which planet is closest to the sun?", "Mercury is the closest planet to the sun."),
    ("Explain photosynthesis briefly.", "Plants turn light, water and carbon dioxide into sugar and oxygen."),
    ("What is 2 + 2?", "It's 4, obviously lol"),
    ("Describe a café in Paris.", "Überraschung: naïve owners serve crème brûlée — 😀 and a long, long answer " * 3),
]


def make_tiny_classifier(path: Path, vocab_size: int = 30522, hidden: int = 16, classes: int = 2,
                         seed: int = 0) -> Path:
    """Write a (batch, classes)-logits ONNX model with BERT-style inputs; returns `path`."""
    rng = np.random.default_rng(seed)
    init = [numpy_helper.from_array(rng.normal(0, 0.8, (vocab_size, hidden)).astype(np.float32), "word_emb"),
            numpy_helper.from_array(rng.normal(0, 0.8, (2, hidden)).astype(np.float32), "type_emb"),
            numpy_helper.from_array(rng.normal(0, 1.0, (hidden, classes)).astype(np.float32), "w"),
            numpy_helper.from_array(rng.normal(0, 0.1, (classes,)).astype(np.float32), "b"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis_last")]
    nodes = [
        helper.make_node("Gather", ["word_emb", "input_ids"], ["words"]),            # (B, T, H)
        helper.make_node("Gather", ["type_emb", "token_type_ids"], ["types"]),       # (B, T, H)
        helper.make_node("Add", ["words", "types"], ["summed"]),
        helper.make_node("Tanh", ["summed"], ["hidden"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_f", "axis_last"], ["mask3"]),           # (B, T, 1)
        helper.make_node("Mul", ["hidden", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["total"], keepdims=0),   # (B, H)
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),    # (B, 1)
        helper.make_node("Div", ["total", "count"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "w"], ["projected"]),
        helper.make_node("Add", ["projected", "b"], ["logits"]),                     # (B, K)
    ]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])
    graph = helper.make_graph(nodes, "tiny_detector", inputs, [output], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def odd_input_bundle(bundle: Path, folder: Path) -> Path:
    """A copy of `bundle` whose model also wants an input no text gives (pixel_values), its manifest
    written again (as a bundle built with such a model would have it)."""
    import shutil

    from edge.bundle import write_manifest

    shutil.copytree(bundle, folder)
    model = onnx.load(str(bundle / "model.onnx"))
    model.graph.input.append(helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3]))
    onnx.save(model, str(folder / "model.onnx"))
    write_manifest(folder)
    return folder
