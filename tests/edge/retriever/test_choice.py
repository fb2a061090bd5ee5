"""The multiple-choice member on the device (edge/retriever/choice.py, edge/runtime/science.py
ChoiceScorer and rank_blend) with a tiny random multiple-choice BERT and MiniLM's tokenizer: the
exported pair scorer gives the PyTorch model's logits, tokenized on the device as on the host, and
the device's rank blend is the host's rank_average."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from common.ensemble import rank_average
from common.training.multiple_choice import MultipleChoiceConfig, predict_multiple_choice
from edge.retriever.choice import INT8_AGREEMENT, export_choice_scorer
from edge.runtime.choices import rank_blend
from edge.runtime.science import ChoiceScorer

CONTEXT = "Plants take in carbon dioxide and give off oxygen. Fish breathe with gills in the water."
PROMPT = "Which gas do plants take in?"
OPTIONS = ["oxygen", "carbon dioxide", "helium", "a very long option " * 12, "neon"]


def tiny_choice_model(minilm_tokenizer):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMultipleChoice

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_tokenizer))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    return BertForMultipleChoice(config).eval(), tokenizer


@pytest.fixture(scope="module")
def exported(minilm_tokenizer, tmp_path_factory):
    model, tokenizer = tiny_choice_model(minilm_tokenizer)
    pairs = [(CONTEXT, f"{PROMPT} Answer: {o}") for o in OPTIONS] * 2
    files, parity, agreement = export_choice_scorer(model, tokenizer, tmp_path_factory.mktemp("choice"), pairs, 24)
    return model, tokenizer, files, parity, agreement


@pytest.mark.parametrize("graph", ["fp32", "int8"])
def test_the_device_scores_each_option_as_the_pytorch_model(exported, graph, tmp_path):
    model, tokenizer, files, parity, agreement = exported
    assert parity.ok() and 0.0 <= agreement <= 1.0
    assert files["ship"] == (files["int8"] if agreement >= INT8_AGREEMENT else files["fp32"])
    shutil.copy(files[graph], tmp_path / "choice.onnx")
    shutil.copy(files["tokenizer"], tmp_path / "choice_tokenizer.json")
    device = ChoiceScorer(tmp_path, threads=1, max_length=24).scores(CONTEXT, [f"{PROMPT} Answer: {o}" for o in OPTIONS])
    host = predict_multiple_choice(model, tokenizer, [CONTEXT], [[f"{PROMPT} Answer: {o}" for o in OPTIONS]],
                                   MultipleChoiceConfig(max_length=24))[0]
    # fp32: the same tokens (one option runs past max_length: truncated alike) give the same logits;
    # dynamic int8 rounds each pair's activations on its own, so it is only close
    np.testing.assert_allclose(device, host, atol=1e-4 if graph == "fp32" else 0.05)


def test_the_rank_blend_is_the_hosts_rank_average():
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=5), np.array([1.0, 1.0, 0.5, 2.0, 1.0]), np.array([3.0, 3.0, 3.0, 3.0, 3.0])]
    others = [rng.normal(size=5), np.array([0.2, -0.1, 0.2, 0.2, 0.0]), rng.normal(size=5)]
    for lm, mc in zip(rows, others):
        for w in (0.5, 0.7):
            host = rank_average([lm[None], mc[None]], [w, 1 - w])[0]
            np.testing.assert_allclose(rank_blend([lm, mc], [w, 1 - w]), host, atol=1e-12)
