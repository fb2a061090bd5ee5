"""Writing a learned-scale QAT folder's grid into the builder's export: node names to HF Linears,
every MatMulNBits exact, and a folder off its grid refused."""
from __future__ import annotations

import numpy as np
import pytest

from edge.generator.fake_quant import Grid, attach_fake_quant, learned_weights
from edge.generator.learned_grid import linear_names, write_learned_grid
from edge.generator.qat import QATConfig
from tiny_llm import load_fp32


def test_linear_names_map_the_builders_matmuls_to_hf_linears():
    assert linear_names("/model/layers.3/attn/qkv_proj/MatMul_Q4") == [
        "model.layers.3.self_attn.q_proj", "model.layers.3.self_attn.k_proj", "model.layers.3.self_attn.v_proj"]
    assert linear_names("/model/layers.12/mlp/down_proj/MatMul_Q4") == ["model.layers.12.mlp.down_proj"]
    assert linear_names("/lm_head/MatMul_Q4") == ["lm_head"]
    assert linear_names("/model/layers.0/attn/GroupQueryAttention") is None


def test_a_learned_scale_folder_is_written_into_every_matmul_exactly(tiny_llm, generator_cache, monkeypatch,
                                                                    matmulnbits_weights):
    """The builder alone would round the learned blocks again; the export carries them unchanged,
    the fused qkv and the tied head included."""
    import json

    import onnx
    from onnx import numpy_helper

    from edge.generator.calibrate import texts_id
    from edge.generator.export import build_variant
    from edge.generator.qat import SCALES_FILE
    from edge.generator.variants import VARIANTS

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    texts = [f"Passage {i}: the quick brown fox jumps over the lazy dog near river {i}." * 3 for i in range(40)]
    config = QATConfig(steps=2, batch=2, window=32, lr=1e-3, warmup=1, validation=2, checkpoint_every=2,
                       scale_lr=5e-2)
    variant = VARIANTS["int4"].with_(name="int4-lsq", qat=tuple(sorted(vars(config).items())),
                                     calibration=texts_id(texts))
    folder = build_variant(variant, str(tiny_llm), texts, log=lambda *_: None)
    source_path = json.loads((folder / "VARIANT.json").read_text())["source"]
    source, scales = load_fp32(source_path), np.load(f"{source_path}/{SCALES_FILE}")
    graph = onnx.load(folder / "model.onnx")
    inits = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    nodes = [n for n in graph.graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 1 + 5 * len(source.model.layers)
    moved = 0
    for node in nodes:
        names = linear_names(node.name)
        expected = np.concatenate([source.get_submodule(n).weight.detach().double().numpy() for n in names])
        np.testing.assert_allclose(matmulnbits_weights(inits, node), expected, rtol=1e-6, atol=1e-7)  # fp32 products
        for name in names:
            w = source.get_submodule(name).weight.detach().reshape(len(scales[name]), -1, 32)
            moved += int((np.abs(w.abs().amax(-1).numpy() - 8 * np.abs(scales[name])) > 1e-6).sum())
    assert moved  # blocks the builder would have rounded again: their peak is not at code -8


def test_a_folder_off_its_learned_grid_is_refused(tiny_llm, tmp_path):
    import onnx
    from onnx import helper

    from edge.generator.qat import SCALES_FILE

    model = attach_fake_quant(load_fp32(tiny_llm), Grid(act_int8=False, learn_scales=True))
    scales = {n: s.numpy() * 1.37 for n, (_, s) in learned_weights(model).items()}
    load_fp32(tiny_llm).save_pretrained(tmp_path / "src")
    np.savez(tmp_path / "src" / SCALES_FILE, **scales)
    (tmp_path / "export").mkdir()
    node = helper.make_node("MatMulNBits", ["x", "b", "s"], ["y"], name="/lm_head/MatMul_Q4", domain="com.microsoft")
    onnx.save(helper.make_model(helper.make_graph([node], "g", [], [])), str(tmp_path / "export" / "model.onnx"))
    with pytest.raises(ValueError, match="off its learned grid"):
        write_learned_grid(tmp_path / "export", tmp_path / "src", tmp_path, 32)
