"""Calibration measurements: the int4 grid, token windows, sensitivity, block influence, pruning."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from edge.generator.calibrate import block_influence, input_norms, layer_sensitivity, rtn_int4, token_windows
from edge.generator.prune import drop_blocks, wanda
from tiny_llm import load_fp32


def test_rtn_int4_uses_sixteen_levels_per_block_and_keeps_the_peak():
    w = torch.randn(8, 64)
    q = rtn_int4(w)
    blocks, qblocks = w.reshape(8, 2, 32), q.reshape(8, 2, 32)
    peak = blocks.abs().argmax(-1, keepdim=True)
    torch.testing.assert_close(torch.gather(qblocks, -1, peak), torch.gather(blocks, -1, peak))
    scale = torch.gather(blocks, -1, peak).abs() / 8
    assert all(len(torch.unique(b)) <= 16 for b in qblocks.reshape(-1, 32))
    assert ((qblocks - blocks).abs() <= scale + 1e-6).all()   # half a step, a full one where 7 clamps 8


def test_token_windows_cut_long_texts_and_stop_at_the_budget():
    encode = lambda text: list(range(len(text.split())))  # noqa: E731
    windows = token_windows(encode, ["w " * 600, "short text", "w " * 100], max_tokens=700, window=256, min_len=16)
    assert [len(w) for w in windows] == [256, 256, 88, 100]
    assert sum(map(len, token_windows(encode, ["w " * 600], max_tokens=300))) == 300


@pytest.fixture(scope="module")
def tiny_model(tiny_llm):
    return load_fp32(tiny_llm)


def test_sensitivity_and_influence_score_every_layer(tiny_model):
    windows = [list(range(10, 60)), list(range(100, 140))]
    before = [p.clone() for p in tiny_model.parameters()]
    costs = layer_sensitivity(tiny_model, windows, log=lambda *_: None)
    assert len(costs) == 2 and all(np.isfinite(costs))
    assert all(torch.equal(a, b) for a, b in zip(before, tiny_model.parameters()))  # weights restored
    influence = block_influence(tiny_model, windows)
    assert len(influence) == 2 and all(0 <= x <= 2 for x in influence)


def test_wanda_zeroes_half_of_each_row_and_drop_blocks_renumbers(tiny_llm):
    model = load_fp32(tiny_llm)
    wanda(model, input_norms(model, [list(range(10, 50))]), 0.5)
    down = model.model.layers[0].mlp.down_proj.weight
    assert ((down == 0).sum(dim=1) == down.shape[1] // 2).all()
    drop_blocks(model, (0,))
    assert model.config.num_hidden_layers == 1 and len(model.model.layers) == 1
    assert model.model.layers[0].self_attn.layer_idx == 0
    with torch.inference_mode():
        assert model(input_ids=torch.tensor([[5, 6, 7]])).logits.shape[:2] == (1, 3)
