"""The classifier's bundle: config.json for the runtime, smoke probabilities of every class,
two or more classes, text pairs, and the models or settings it refuses."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tiny_onnx import PAIRS, make_tiny_classifier

from common.errors import UserError
from edge.classifier.bundle import ClassifierBundleConfig, build_bundle
from edge.runtime.detect import Classifier

EXPECTED_FILES = {"model.onnx", "tokenizer.json", "config.json", "detect.py", "records.py", "classifier.py", "smoke.jsonl",
                  "requirements.txt"}


def test_config_describes_model_and_tokenizer(tiny_bundle):
    config = json.loads((tiny_bundle / "config.json").read_text())
    assert (config["format"], config["kind"], config["pairs"]) == (2, "classifier", False)
    assert config["input_names"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert (config["output"], config["output_name"], config["positive_index"]) == ("softmax", "logits", 1)
    assert (config["pad_token"], config["pad_id"], config["max_length"]) == ("[PAD]", 0, 64)
    assert config["labels"] == ["human", "ai"] and config["threshold"] == 0.5


def test_smoke_rows_carry_every_class_probability_from_the_host(tiny_bundle):
    rows = [json.loads(line) for line in (tiny_bundle / "smoke.jsonl").read_text().splitlines()]
    assert all(set(r) == {"text", "probs"} for r in rows)
    probs = Classifier(tiny_bundle).predict_proba([r["text"] for r in rows])
    np.testing.assert_allclose([r["probs"] for r in rows], probs, atol=1e-7)


def test_three_class_pair_bundle(tiny_pair_bundle):
    assert {p.name for p in tiny_pair_bundle.iterdir()} == EXPECTED_FILES | {"MANIFEST.sha256"}
    config = json.loads((tiny_pair_bundle / "config.json").read_text())
    assert config["pairs"] is True and config["labels"] == ["gpt", "llama", "mistral"]
    assert config["positive_index"] == 2 and config["output"] == "softmax"
    rows = [json.loads(line) for line in (tiny_pair_bundle / "smoke.jsonl").read_text().splitlines()]
    assert [(r["text"], r["text_pair"]) for r in rows] == PAIRS[:3]
    assert all(len(r["probs"]) == 3 and abs(sum(r["probs"]) - 1) < 1e-6 for r in rows)


def test_bad_inputs_are_user_errors(tmp_path, minilm_tokenizer):
    model = make_tiny_classifier(tmp_path / "m.onnx")
    with pytest.raises(UserError, match="missing ONNX model"):
        build_bundle(tmp_path / "nope.onnx", minilm_tokenizer, tmp_path / "b")
    with pytest.raises(UserError, match="no tokenizer.json"):
        build_bundle(model, tmp_path, tmp_path / "b")
    with pytest.raises(UserError, match="positive label 'machine' is not among"):
        build_bundle(model, minilm_tokenizer, tmp_path / "b", ClassifierBundleConfig(positive_label="machine"))
    with pytest.raises(UserError, match="smoke_inputs is empty"):
        build_bundle(model, minilm_tokenizer, tmp_path / "b", ClassifierBundleConfig(smoke_inputs=()))
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(UserError, match="cannot load ONNX model"):
        build_bundle(tmp_path / "junk.onnx", minilm_tokenizer, tmp_path / "b")
    three = make_tiny_classifier(tmp_path / "three.onnx", classes=3)
    with pytest.raises(UserError, match=r"for 2 labels want \(batch, 1\) or \(batch, 2\)"):
        build_bundle(three, minilm_tokenizer, tmp_path / "b")
    with pytest.raises(UserError, match=r"for 4 labels want \(batch, 4\)"):
        build_bundle(three, minilm_tokenizer, tmp_path / "b", ClassifierBundleConfig(labels=tuple("abcd")))
    assert not (tmp_path / "b").exists()


def test_model_wanting_unknown_inputs_is_refused(tmp_path, minilm_tokenizer):
    node = helper.make_node("Identity", ["pixel_values"], ["logits"])
    graph = helper.make_graph([node], "odd", [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["b", 2])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", 2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "odd.onnx"))
    with pytest.raises(UserError, match=r"runtime cannot build: \['pixel_values'\]"):
        build_bundle(tmp_path / "odd.onnx", minilm_tokenizer, tmp_path / "b")
