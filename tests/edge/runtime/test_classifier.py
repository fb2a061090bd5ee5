"""The classifier a bundle runs on the device (edge/runtime/classifier.py), on the tiny bundles:
its probabilities against the tiny model computed by hand, text pairs encoded as the host encodes
them, padding, dynamic int8's batch of one, truncation, a one-logit model's sigmoid, and the output
line detect.py prints."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from tokenizers import Tokenizer

from edge.classifier.bundle import ClassifierBundleConfig, build_bundle
from edge.runtime.classifier import Classifier, format_row
from tiny_onnx import PAIRS, TEXTS, make_tiny_classifier, odd_input_bundle


def reference_probs(bundle: Path, inputs: list, classes: int) -> np.ndarray:
    """The tiny model computed by hand with numpy, one input at a time (no padding): (n, K)."""
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(bundle / "model.onnx")).graph.initializer}
    tok = Tokenizer.from_file(str(bundle / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=json.loads((bundle / "config.json").read_text())["max_length"])
    probs = []
    for item in inputs:
        enc = tok.encode(item) if isinstance(item, str) else tok.encode(*item)
        hidden = np.tanh(weights["word_emb"][enc.ids] + weights["type_emb"][enc.type_ids])  # (T, H)
        logits = hidden.mean(axis=0).astype(np.float64) @ weights["w"] + weights["b"]       # (K,)
        if classes == 1:
            p = 1 / (1 + np.exp(-logits[0]))
            probs.append([1 - p, p])
        else:
            probs.append(np.exp(logits) / np.exp(logits).sum())
    return np.array(probs)


def test_probabilities_match_the_model_computed_by_hand(tiny_bundle):
    probs = Classifier(tiny_bundle).predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(probs, reference_probs(tiny_bundle, TEXTS, classes=2), atol=1e-5)
    assert len(set(np.round(probs[:, 1], 4))) == len(TEXTS)  # the texts get different scores


def test_three_classes_over_pairs_match_the_model_computed_by_hand(tiny_pair_bundle):
    clf = Classifier(tiny_pair_bundle)
    assert clf.pairs and clf.labels == ["gpt", "llama", "mistral"]
    probs = clf.predict_proba(PAIRS)
    assert probs.shape == (len(PAIRS), 3)
    np.testing.assert_allclose(probs, reference_probs(tiny_pair_bundle, PAIRS, classes=3), atol=1e-5)
    assert clf.feeds(PAIRS[-1:])["input_ids"].shape == (1, 32)  # the long pair is truncated


def test_pairs_are_encoded_as_the_host_tokenizer_encodes_them(tiny_pair_bundle, minilm_tokenizer):
    from transformers import AutoTokenizer

    from common.training.inputs import tokenize

    host = tokenize(AutoTokenizer.from_pretrained(minilm_tokenizer), PAIRS, max_length=32, return_tensors="np",
                    return_token_type_ids=True)
    device = Classifier(tiny_pair_bundle).feeds(PAIRS)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(device[name], host[name])


def test_padding_in_a_batch_does_not_change_scores(tiny_bundle):
    clf = Classifier(tiny_bundle)
    one_by_one = np.concatenate([clf.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(clf.predict_proba(TEXTS, batch_size=4), one_by_one, atol=1e-6)


def test_a_dynamic_int8_bundle_scores_each_input_alone_so_its_neighbours_do_not_move_it(tiny_int8_bundle,
                                                                                        tiny_bundle):
    # dynamic int8 takes one activation range over the batch: the bundle says batch 1
    assert json.loads((tiny_int8_bundle / "config.json").read_text())["batch_size"] == 1
    assert json.loads((tiny_bundle / "config.json").read_text())["batch_size"] == 8    # fp32: batched
    clf = Classifier(tiny_int8_bundle)
    alone = np.concatenate([clf.predict_proba([t]) for t in TEXTS])
    np.testing.assert_array_equal(clf.predict_proba(TEXTS), alone)           # the default: exactly equal
    np.testing.assert_array_equal(clf.predict_proba(TEXTS[::-1]), alone[::-1])   # in any order


def test_long_text_is_truncated_to_max_length(tiny_bundle):
    clf = Classifier(tiny_bundle)
    feeds = clf.feeds(["word " * 5000])
    assert feeds["input_ids"].shape == (1, 64)
    assert 0.0 < clf.predict_proba(["word " * 5000])[0, 1] < 1.0


def test_one_logit_model_gives_its_sigmoid(tmp_path, minilm_tokenizer):
    model = make_tiny_classifier(tmp_path / "one.onnx", classes=1, seed=3)
    bundle = build_bundle(model, minilm_tokenizer, tmp_path / "b1", ClassifierBundleConfig(max_length=32)).path
    assert json.loads((bundle / "config.json").read_text())["output"] == "sigmoid"
    np.testing.assert_allclose(Classifier(bundle).predict_proba(TEXTS),
                               reference_probs(bundle, TEXTS, classes=1), atol=1e-5)


def test_an_output_line_is_the_positive_probability_or_every_class_or_json():
    labels = ["human", "ai"]
    assert format_row(0, np.array([0.25, 0.75]), labels, 1, 0.5, as_json=False) == "0.750000"
    row = json.loads(format_row(3, np.array([0.6, 0.4]), labels, 1, 0.5, as_json=True))
    assert row == {"index": 3, "prob_ai": 0.4, "label": "human", "probs": {"human": 0.6, "ai": 0.4}}
    assert json.loads(format_row(0, np.array([0.4, 0.6]), labels, 1, 0.5, as_json=True))["label"] == "ai"
    three = ["gpt", "llama", "mistral"]
    assert format_row(0, np.array([0.2, 0.5, 0.3]), three, 0, 0.5, as_json=False) == "0.200000 0.500000 0.300000"
    assert json.loads(format_row(1, np.array([0.2, 0.5, 0.3]), three, 0, 0.5, as_json=True))["label"] == "llama"


def test_a_model_input_the_runtime_cannot_build_is_refused(tiny_bundle, tmp_path):
    folder = odd_input_bundle(tiny_bundle, tmp_path / "odd")
    with pytest.raises(ValueError, match=r"cannot build: \['pixel_values'\]"):
        Classifier(folder, config=json.loads((folder / "config.json").read_text()))
