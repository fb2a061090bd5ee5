"""Quantization-aware training on the int4 export's grid: the fake quantization, the training loop
(distillation lowers the student's loss, a cut run resumes to the same weights) and an exact export."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from edge.generator.learned_grid import linear_names, write_learned_grid
from edge.generator.qat import QATConfig, attach_fake_quant, grid_weights, learned_weights, packed_windows, train


def _model(folder):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()


def test_fake_quantized_forward_is_the_rounded_model_and_passes_gradients(tiny_llm):
    ids = torch.tensor([list(range(20, 60))])
    student = attach_fake_quant(_model(tiny_llm), act_int8=False)
    rounded = _model(tiny_llm)
    grid_weights(rounded)
    torch.testing.assert_close(student(input_ids=ids).logits, rounded(input_ids=ids).logits, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(rounded(input_ids=ids).logits, _model(tiny_llm)(input_ids=ids).logits, atol=1e-3)
    student(input_ids=ids).logits.sum().backward()
    grads = [p.grad for name, p in student.named_parameters() if name.endswith("proj.weight")]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_grid_weights_leave_sixteen_codes_a_block_with_the_peak_at_minus_eight(tiny_llm):
    model = _model(tiny_llm)
    grid_weights(model)
    w = model.model.layers[0].mlp.down_proj.weight.detach().reshape(-1, 32)
    peak = torch.gather(w, -1, w.abs().argmax(-1, keepdim=True))
    codes = w / (peak / -8)
    torch.testing.assert_close(codes, codes.round(), atol=1e-4, rtol=0)
    assert codes.round().min() >= -8 and codes.round().max() <= 7


def test_learned_scales_start_on_the_builders_grid_and_learn(tiny_llm, tmp_path):
    ids = torch.tensor([list(range(20, 60))])
    fixed = attach_fake_quant(_model(tiny_llm), act_int8=False)
    learned = attach_fake_quant(_model(tiny_llm), act_int8=False, learn_scales=True)
    torch.testing.assert_close(learned(input_ids=ids).logits, fixed(input_ids=ids).logits, rtol=1e-5, atol=1e-5)
    tied = _model(tiny_llm)
    tied.lm_head.weight = tied.model.embed_tokens.weight
    tied = attach_fake_quant(tied, learn_scales=True)
    assert tied.model.embed_tokens.grid is tied.lm_head.grid  # a tied embedding reads the head's grid
    assert "lm_head" in learned_weights(tied) and not any(n.startswith("model.embed") for n in learned_weights(tied))
    start = {n: p.detach().clone() for n, p in learned.named_parameters() if n.endswith("log_scale")}
    assert start and all(p.requires_grad for n, p in learned.named_parameters() if n.endswith("log_scale"))
    config = dataclasses.replace(CONFIG, scale_lr=1e-2)
    rows = train(learned, _model(tiny_llm), _data(), config, tmp_path / "c.pt", log=lambda *_: None)
    checks = [r for r in rows if "kl" in r]
    assert checks[-1]["kl"] < 0.7 * checks[0]["kl"]
    moved = dict(learned.named_parameters())
    assert all(not torch.equal(moved[n], p) for n, p in start.items())
    weights = learned_weights(learned)
    assert "lm_head" in weights
    weight, scale = weights["model.layers.0.mlp.down_proj"]
    codes = weight.reshape(weight.shape[0], -1, 32) / scale[..., None]
    torch.testing.assert_close(codes, codes.round(), atol=1e-4, rtol=0)
    assert codes.round().min() >= -8 and codes.round().max() <= 7


def test_a_learned_scale_is_kept_out_of_the_cache_key_only_when_unset():
    assert "scale_lr" not in QATConfig().key_fields()
    assert QATConfig(scale_lr=1e-3).key_fields()["scale_lr"] == 1e-3


def test_linear_names_map_the_builders_matmuls_to_hf_linears():
    assert linear_names("/model/layers.3/attn/qkv_proj/MatMul_Q4") == [
        "model.layers.3.self_attn.q_proj", "model.layers.3.self_attn.k_proj", "model.layers.3.self_attn.v_proj"]
    assert linear_names("/model/layers.12/mlp/down_proj/MatMul_Q4") == ["model.layers.12.mlp.down_proj"]
    assert linear_names("/lm_head/MatMul_Q4") == ["lm_head"]
    assert linear_names("/model/layers.0/attn/GroupQueryAttention") is None


def test_packed_windows_put_an_eos_after_each_text_and_drop_the_tail():
    data = packed_windows(lambda t: [ord(c) for c in t], ["abc", "de", "fghij"], window=4, eos=0)
    assert data.tolist() == [[97, 98, 99, 0], [100, 101, 0, 102], [103, 104, 105, 106]]
    read = []
    first = packed_windows(lambda t: read.append(t) or [ord(c) for c in t], ["abc", "de", "fghij", "never read"],
                           window=4, eos=0, max_windows=2)
    assert first.tolist() == [[97, 98, 99, 0], [100, 101, 0, 102]] and read == ["abc", "de", "fghij"]


CONFIG = QATConfig(steps=6, batch=2, window=32, lr=3e-5, warmup=1, validation=2, checkpoint_every=3)


def _data():
    """Two random windows six times over: the held-back windows are also trained on, so their KL
    measures the optimisation itself (a test of the loop, not of generalisation)."""
    return torch.randint(10, 2000, (2, 32), generator=torch.Generator().manual_seed(0)).repeat(6, 1)


class _Cut(Exception):
    pass


def test_training_lowers_the_kl_it_optimises_and_a_cut_run_resumes_to_the_same_weights(tiny_llm, tmp_path):
    teacher = _model(tiny_llm)
    whole = attach_fake_quant(_model(tiny_llm))
    rows = train(whole, teacher, _data(), CONFIG, tmp_path / "whole.pt", log=lambda *_: None)
    checks = [r for r in rows if "kl" in r]
    assert [r["step"] for r in checks] == [0, 3, 6]
    assert checks[-1]["kl"] < 0.7 * checks[0]["kl"] and checks[-1]["agreement"] > checks[0]["agreement"]

    def cut(done):
        if done == 4:
            raise _Cut

    cut_short = attach_fake_quant(_model(tiny_llm))
    with pytest.raises(_Cut):
        train(cut_short, teacher, _data(), CONFIG, tmp_path / "cut.pt", log=lambda *_: None, progress=cut)
    resumed = attach_fake_quant(_model(tiny_llm))
    again = train(resumed, teacher, _data(), CONFIG, tmp_path / "cut.pt", log=lambda *_: None)
    assert [r["step"] for r in again if "kl" in r] == [0, 3, 6]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_too_little_text_is_refused(tiny_llm, tmp_path):
    from common.errors import UserError

    with pytest.raises(UserError, match="windows of 32 tokens"):
        train(attach_fake_quant(_model(tiny_llm)), _model(tiny_llm), _data()[:3], CONFIG, tmp_path / "c.pt")


@pytest.mark.parametrize("base, block", [("int4", 32), ("int4-b128", 128)])
def test_the_builder_recodes_a_qat_folder_exactly(tiny_llm, generator_cache, monkeypatch, base, block):
    """At block 128 the tiny model's up_proj (64 inputs) is one short block, zero-padded as MLAS pads it."""
    import onnx
    from onnx import numpy_helper

    from edge.generator.calibrate import texts_id
    from edge.generator.export import VARIANTS, build_variant

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    texts = [f"Passage {i}: the quick brown fox jumps over the lazy dog near river {i}." * 3 for i in range(40)]
    config = QATConfig(steps=2, batch=2, window=32, lr=1e-3, warmup=1, block=block, validation=2, checkpoint_every=2)
    variant = VARIANTS[base].with_(name=f"{base}-qat", qat=tuple(sorted(vars(config).items())),
                                   calibration=texts_id(texts))
    folder = build_variant(variant, str(tiny_llm), texts, log=lambda *_: None)
    source = _model(__import__("json").loads((folder / "VARIANT.json").read_text())["source"])
    graph = onnx.load(folder / "model.onnx")
    inits = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    checked = 0
    for node in graph.graph.node:
        part = next((p for p in ("down_proj", "up_proj") if p in node.name), None)
        if node.op_type != "MatMulNBits" or part is None:
            continue
        layer = int(node.name.split("layers.")[1].split("/")[0])
        expected = getattr(source.model.layers[layer].mlp, part).weight.detach().double().numpy()
        packed, scales = inits[node.input[1]], inits[node.input[2]].astype(np.float64)
        codes = np.stack([packed & 0x0F, packed >> 4], -1).reshape(packed.shape[0], -1).astype(np.int64)
        weights = ((codes.reshape(len(codes), -1, block) - 8) * scales.reshape(len(codes), -1, 1)).reshape(len(codes), -1)
        np.testing.assert_allclose(weights[:, :expected.shape[1]], expected, rtol=0, atol=1e-7)
        checked += 1
    assert checked == 4


def _dequantized(graph, node, block):
    from onnx import numpy_helper

    inits = {i.name: i for i in graph.graph.initializer}
    packed = numpy_helper.to_array(inits[node.input[1]])
    scales = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
    codes = np.stack([packed & 0x0F, packed >> 4], -1).reshape(packed.shape[0], -1).astype(np.int64)
    return ((codes.reshape(len(codes), -1, block) - 8) * scales.reshape(len(codes), -1, 1)).reshape(len(codes), -1)


def test_a_learned_scale_folder_is_written_into_every_matmul_exactly(tiny_llm, generator_cache, monkeypatch):
    """The builder alone would round the learned blocks again; the export carries them unchanged,
    the fused qkv and the tied head included."""
    import json

    import onnx

    from edge.generator.calibrate import texts_id
    from edge.generator.export import VARIANTS, build_variant
    from edge.generator.qat import SCALES_FILE

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    texts = [f"Passage {i}: the quick brown fox jumps over the lazy dog near river {i}." * 3 for i in range(40)]
    config = QATConfig(steps=2, batch=2, window=32, lr=1e-3, warmup=1, validation=2, checkpoint_every=2,
                       scale_lr=5e-2)
    variant = VARIANTS["int4"].with_(name="int4-lsq", qat=tuple(sorted(vars(config).items())),
                                     calibration=texts_id(texts))
    folder = build_variant(variant, str(tiny_llm), texts, log=lambda *_: None)
    source_path = json.loads((folder / "VARIANT.json").read_text())["source"]
    source, scales = _model(source_path), np.load(f"{source_path}/{SCALES_FILE}")
    graph = onnx.load(folder / "model.onnx")
    nodes = [n for n in graph.graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 1 + 5 * len(source.model.layers)
    moved = 0
    for node in nodes:
        names = linear_names(node.name)
        expected = np.concatenate([source.get_submodule(n).weight.detach().double().numpy() for n in names])
        np.testing.assert_allclose(_dequantized(graph, node, 32), expected, rtol=1e-6, atol=1e-7)  # fp32 products
        for name in names:
            w = source.get_submodule(name).weight.detach().reshape(len(scales[name]), -1, 32)
            moved += int((np.abs(w.abs().amax(-1).numpy() - 8 * np.abs(scales[name])) > 1e-6).sum())
    assert moved  # blocks the builder would have rounded again: their peak is not at code -8


def test_a_folder_off_its_learned_grid_is_refused(tiny_llm, tmp_path):
    import onnx
    from onnx import helper

    from edge.generator.qat import SCALES_FILE

    model = attach_fake_quant(_model(tiny_llm), act_int8=False, learn_scales=True)
    scales = {n: s.numpy() * 1.37 for n, (_, s) in learned_weights(model).items()}
    _model(tiny_llm).save_pretrained(tmp_path / "src")
    np.savez(tmp_path / "src" / SCALES_FILE, **scales)
    (tmp_path / "export").mkdir()
    node = helper.make_node("MatMulNBits", ["x", "b", "s"], ["y"], name="/lm_head/MatMul_Q4", domain="com.microsoft")
    onnx.save(helper.make_model(helper.make_graph([node], "g", [], [])), str(tmp_path / "export" / "model.onnx"))
    with pytest.raises(ValueError, match="off its learned grid"):
        write_learned_grid(tmp_path / "export", tmp_path / "src", tmp_path, 32)
