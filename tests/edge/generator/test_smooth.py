"""SmoothQuant (edge/generator/smooth.py) on the tiny Llama: the function is unchanged, the
activation outliers shrink, and a smoothed int8 variant exports from a derived folder."""
from __future__ import annotations

import pytest
import torch

from edge.generator.calibrate import input_absmax
from edge.generator.smooth import smooth_llama
from tiny_llm import load_fp32

WINDOWS = [list(range(10, 70)), list(range(200, 240))]


@pytest.fixture()
def outlier_model(tiny_llm):
    """The tiny Llama with two activation outlier channels, as real LMs have."""
    model = load_fp32(tiny_llm)
    with torch.no_grad():
        model.model.layers[0].input_layernorm.weight[3] *= 40
        model.model.layers[1].post_attention_layernorm.weight[5] *= 40
    return model


def spread(values) -> float:
    return float(values.max() / values.median())


def test_smoothing_keeps_the_logits_and_flattens_the_outliers(outlier_model):
    ids = torch.tensor([list(range(30, 70))])
    with torch.inference_mode():
        before = outlier_model(input_ids=ids).logits
    stats = input_absmax(outlier_model, WINDOWS)
    scales = smooth_llama(outlier_model, WINDOWS, alpha=0.5)
    with torch.inference_mode():
        after = outlier_model(input_ids=ids).logits
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-3)
    smoothed = input_absmax(outlier_model, WINDOWS)
    for name in ("0.self_attn.q_proj", "1.mlp.gate_proj"):
        assert spread(smoothed[name]) < spread(stats[name]) / 3, name
    assert scales["max_scale"] > scales["min_scale"] > 0


def test_bad_alpha_and_other_architectures_are_refused(outlier_model):
    with pytest.raises(ValueError, match="alpha"):
        smooth_llama(outlier_model, WINDOWS, alpha=1.5)
    outlier_model.model.layers[0].mlp = torch.nn.Identity()
    with pytest.raises(ValueError, match="Llama-style"):
        smooth_llama(outlier_model, WINDOWS)


def test_a_smoothed_int8_variant_builds_from_its_own_derived_folder(tiny_llm, generator_cache, monkeypatch):
    import numpy as np

    from edge.generator.export import build_variant, source_folder
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    texts = ["The history of the Roman Empire began when a city on the Tiber grew. " * 20]
    variant = VARIANTS["int8"].with_(name="int8-smooth", smooth=0.5, calibration="tiny")
    source, source_id = source_folder(variant, str(tiny_llm), texts, log=lambda *_: None)
    assert source_id.startswith("derived:") and (source / "PRUNED.json").is_file()
    assert source_folder(variant.with_(smooth=0.0), str(tiny_llm))[0] == tiny_llm       # unsmoothed: the zoo's
    folder = build_variant(variant, str(tiny_llm), texts, log=lambda *_: None)
    plain = build_variant(VARIANTS["fp32"], str(tiny_llm), log=lambda *_: None)
    ids = CausalLM(plain).encode("The history of the Roman Empire began when")
    smoothed, reference = CausalLM(folder).forward(ids), CausalLM(plain).forward(ids)
    assert np.mean(smoothed.argmax(-1) == reference.argmax(-1)) >= 0.8
    assert graph_shape(folder) == graph_shape(build_variant(VARIANTS["int8"], str(tiny_llm), log=lambda *_: None))


def graph_shape(folder):
    """Every node's operator and every initializer's name, type and shape: what decides the kernels."""
    import onnx

    graph = onnx.load(str(folder / "model.onnx"), load_external_data=False).graph
    return ([(n.op_type, n.domain) for n in graph.node],
            sorted((t.name, t.data_type, tuple(t.dims)) for t in graph.initializer))
