"""PyTorch fake quantization on MatMulNBits' grids: the forward is the rounded model, gradients pass,
and a rounded model sits where the builder's own rounding leaves it (symmetric, and asymmetric with
an int8 head from the zoo's Q4_1 weights)."""
from __future__ import annotations

import pytest
import torch

from edge.generator.fake_quant import Grid, attach_fake_quant, blocks, grid_weights, on_grid
from tiny_llm import load_fp32


def test_fake_quantized_forward_is_the_rounded_model_and_passes_gradients(tiny_llm):
    ids = torch.tensor([list(range(20, 60))])
    student = attach_fake_quant(load_fp32(tiny_llm), Grid(act_int8=False))
    rounded = load_fp32(tiny_llm)
    grid_weights(rounded)
    torch.testing.assert_close(student(input_ids=ids).logits, rounded(input_ids=ids).logits, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(rounded(input_ids=ids).logits, load_fp32(tiny_llm)(input_ids=ids).logits, atol=1e-3)
    student(input_ids=ids).logits.sum().backward()
    grads = [p.grad for name, p in student.named_parameters() if name.endswith("proj.weight")]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_grid_weights_leave_sixteen_codes_a_block_with_the_peak_at_minus_eight(tiny_llm):
    model = load_fp32(tiny_llm)
    grid_weights(model)
    w = model.model.layers[0].mlp.down_proj.weight.detach().reshape(-1, 32)
    peak = torch.gather(w, -1, w.abs().argmax(-1, keepdim=True))
    codes = w / (peak / -8)
    torch.testing.assert_close(codes, codes.round(), atol=1e-4, rtol=0)
    assert codes.round().min() >= -8 and codes.round().max() <= 7




ASYM = Grid(symmetric=False, head_bits=8, act_int8=False)


def test_the_asymmetric_grids_are_the_rounded_model_and_settle(tiny_llm):
    ids = torch.tensor([list(range(20, 60))])
    rounded = load_fp32(tiny_llm)
    grid_weights(rounded, ASYM)
    student = attach_fake_quant(load_fp32(tiny_llm), ASYM)
    torch.testing.assert_close(student(input_ids=ids).logits, rounded(input_ids=ids).logits, rtol=1e-4, atol=1e-4)
    for module, bits in ((rounded.model.layers[0].mlp.down_proj, 4), (rounded.lm_head, 8)):
        groups, _ = blocks(module.weight.detach(), 32)
        torch.testing.assert_close(on_grid(groups, False, bits), groups, rtol=1e-6, atol=0)  # rounding again moves nothing
        levels = [len(torch.unique(g)) for g in groups.reshape(-1, 32)]
        assert max(levels) <= 2 ** bits and (bits == 8 or max(levels) > 2)


def test_a_tie_at_a_blocks_end_settles_where_the_builder_leaves_it():
    """A Q4_1 block whose minimum sits half a step off the integer zero point: one rounding leaves the
    top code unused, so the grid the builder derives from those weights differs; grid_weights rounds
    until it does not."""
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2, tie_word_embeddings=True))
    d = 0.078125
    block = (torch.arange(32) % 16) * d - 6.5 * d           # Q4_1: minimum -6.5 steps, codes 0..15
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.weight.copy_(block.repeat(32, 2))
    once = on_grid(blocks(model.model.layers[0].mlp.down_proj.weight.detach(), 32)[0], False, 4)
    assert (on_grid(once, False, 4) - once).abs().max() > d / 4
    grid_weights(model, Grid(symmetric=False, head_bits=8))
    groups, _ = blocks(model.model.layers[0].mlp.down_proj.weight.detach(), 32)
    torch.testing.assert_close(on_grid(groups, False, 4), groups, rtol=1e-6, atol=0)


def test_grids_the_builder_cannot_write_are_refused():
    with pytest.raises(ValueError, match="head_bits 8 with symmetric=True"):
        Grid(head_bits=8)
    with pytest.raises(ValueError, match="symmetric int4 grid only"):
        Grid(symmetric=False, head_bits=8, learn_scales=True)
