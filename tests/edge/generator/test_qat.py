"""Quantization-aware training on the int4 export's grid: the training loop (distillation lowers the
student's loss, a cut run resumes to the same weights, learned scales learn) and an exact export."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from edge.generator.fake_quant import Grid, attach_fake_quant, learned_weights
from edge.generator.learned_grid import linear_names
from edge.generator.qat import QATConfig, packed_windows, train
from tiny_llm import load_fp32, make_tiny_llm


def test_learned_scales_start_on_the_builders_grid_and_learn(tiny_llm, tmp_path):
    ids = torch.tensor([list(range(20, 60))])
    fixed = attach_fake_quant(load_fp32(tiny_llm), Grid(act_int8=False))
    learned = attach_fake_quant(load_fp32(tiny_llm), Grid(act_int8=False, learn_scales=True))
    # the learned grid keeps log(scale), and exp() gives the scale back to an ulp: the logits match to
    # float noise (one of 2M logits off by 1.1e-5 on an AVX2-only CPU)
    torch.testing.assert_close(learned(input_ids=ids).logits, fixed(input_ids=ids).logits, rtol=1e-4, atol=1e-4)
    tied = load_fp32(tiny_llm)
    tied.lm_head.weight = tied.model.embed_tokens.weight
    tied = attach_fake_quant(tied, Grid(learn_scales=True))
    assert tied.model.embed_tokens.grid is tied.lm_head.grid  # a tied embedding reads the head's grid
    assert "lm_head" in learned_weights(tied) and not any(n.startswith("model.embed") for n in learned_weights(tied))
    start = {n: p.detach().clone() for n, p in learned.named_parameters() if n.endswith("log_scale")}
    assert start and all(p.requires_grad for n, p in learned.named_parameters() if n.endswith("log_scale"))
    config = dataclasses.replace(CONFIG, scale_lr=1e-2)
    rows = train(learned, load_fp32(tiny_llm), _data(), config, tmp_path / "c.pt", log=lambda *_: None)
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


def test_later_fields_are_kept_out_of_the_cache_keys_only_when_unset():
    late = {"scale_lr": 1e-3, "symmetric": False, "head_bits": 8, "top1_weight": 0.5}
    assert not set(late) & set(QATConfig().key_fields()) and not set(late) & set(dict(QATConfig().variant_fields()))
    config = QATConfig(**late)
    assert {k: config.key_fields()[k] for k in late} == late == {k: dict(config.variant_fields())[k] for k in late}
    assert QATConfig(symmetric=False, head_bits=8).grid() == Grid(symmetric=False, head_bits=8)


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
    teacher = load_fp32(tiny_llm)
    whole = attach_fake_quant(load_fp32(tiny_llm))
    rows = train(whole, teacher, _data(), CONFIG, tmp_path / "whole.pt", log=lambda *_: None)
    checks = [r for r in rows if "kl" in r]
    assert [r["step"] for r in checks] == [0, 3, 6]
    assert checks[-1]["kl"] < 0.7 * checks[0]["kl"] and checks[-1]["agreement"] > checks[0]["agreement"]

    def cut(done):
        if done == 4:
            raise _Cut

    cut_short = attach_fake_quant(load_fp32(tiny_llm))
    with pytest.raises(_Cut):
        train(cut_short, teacher, _data(), CONFIG, tmp_path / "cut.pt", log=lambda *_: None, progress=cut)
    resumed = attach_fake_quant(load_fp32(tiny_llm))
    again = train(resumed, teacher, _data(), CONFIG, tmp_path / "cut.pt", log=lambda *_: None)
    assert [r["step"] for r in again if "kl" in r] == [0, 3, 6]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_too_little_text_is_refused(tiny_llm, tmp_path):
    from common.errors import UserError

    with pytest.raises(UserError, match="windows of 32 tokens"):
        train(attach_fake_quant(load_fp32(tiny_llm)), load_fp32(tiny_llm), _data()[:3], CONFIG, tmp_path / "c.pt")


@pytest.mark.parametrize("base, grid", [          # two in the default suite cover block, zero points and head
    pytest.param("int4", {}, marks=pytest.mark.slow), ("int4-b128", {"block": 128}),
    ("int4-asym-head8", {"symmetric": False, "head_bits": 8}),
    pytest.param("int4-asym", {"symmetric": False}, marks=pytest.mark.slow)])
def test_the_builder_recodes_a_qat_folder_exactly(tiny_llm, generator_cache, monkeypatch, matmulnbits_weights,
                                                  base, grid, tmp_path):
    """Every MatMulNBits, the head included. At block 128 the tiny model's up_proj (64 inputs) is one
    short block, zero-padded as MLAS pads it; int4-asym-head8 has integer zero points and an int8 head;
    int4-asym has an int4 head and, on a tied model as SmolLM2 is, the embedding's GatherBlockQuantized
    on the head's grid (QAT rounds an embedding only through a tied head)."""
    import json

    import onnx
    from onnx import numpy_helper

    from edge.generator.calibrate import texts_id
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS

    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))
    texts = [f"Passage {i}: the quick brown fox jumps over the lazy dog near river {i}." * 3 for i in range(40)]
    config = QATConfig(steps=2, batch=2, window=32, lr=1e-3, warmup=1, validation=2, checkpoint_every=2, **grid)
    variant = VARIANTS[base].with_(name=f"{base}-qat", qat=config.variant_fields(), calibration=texts_id(texts))
    model = make_tiny_llm(tmp_path / "tied", tied=True) if base == "int4-asym" else tiny_llm
    folder = build_variant(variant, str(model), texts, log=lambda *_: None)
    source = load_fp32(json.loads((folder / "VARIANT.json").read_text())["source"])
    graph = onnx.load(folder / "model.onnx")
    inits = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    nodes = [n for n in graph.graph.node if n.op_type == "MatMulNBits"]
    assert len(nodes) == 1 + 5 * len(source.model.layers)
    for node in nodes:
        expected = np.concatenate([source.get_submodule(n).weight.detach().double().numpy()
                                   for n in linear_names(node.name)])
        np.testing.assert_allclose(matmulnbits_weights(inits, node)[:, :expected.shape[1]], expected,
                                   rtol=1e-6, atol=1e-7, err_msg=node.name)
    gathers = [n for n in graph.graph.node if n.op_type == "GatherBlockQuantized"]
    assert len(gathers) == (base == "int4-asym")
    for node in gathers:  # inputs: codes, indices, scales, zero points; blocks of 32 along each row
        codes, scales, zero = (inits[name].astype(np.float64) for name in (node.input[0], *node.input[2:4]))
        table = (codes.reshape(*scales.shape, -1) - zero[..., None]) * scales[..., None]
        np.testing.assert_allclose(table.reshape(codes.shape), source.model.embed_tokens.weight.detach().double().numpy(),
                                   rtol=1e-6, atol=1e-7)


def test_the_top1_term_pushes_only_the_flipped_positions():
    from edge.generator.qat import _kl, distill_loss

    teacher = torch.tensor([[[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 0.0, 2.0]]])
    student = torch.tensor([[[2.0, 1.5, 0.0], [0.0, 1.0, 2.5], [1.0, 0.0, 2.0]]], requires_grad=True)
    kl = _kl(student, teacher) / 3
    torch.testing.assert_close(distill_loss(student, teacher), kl)
    flipped_ce = torch.nn.functional.cross_entropy(student[0, 1:2], torch.tensor([1]))  # position 1: 2 against 1
    torch.testing.assert_close(distill_loss(student, teacher, 0.5), kl + 0.5 * flipped_ce / 3)
    (distill_loss(student, teacher, 0.5) - kl).backward()
    assert student.grad[0, 1].abs().sum() > 0 and not student.grad[0, [0, 2]].any()   # agreeing positions untouched
