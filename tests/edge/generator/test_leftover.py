"""Q4_1 with integer zero points only: the two sides of each block's leftover, the calibrated choice
between them, a model's Linears losing their leftovers, and their mean put back as a bias."""
from __future__ import annotations

import pytest
import torch

from edge.generator.leftover import (block_sum_means, block_sum_moments, choose_sides, decoder_linears, drop_biases,
                                     drop_leftovers, leftover_sides)
from tiny_llm import load_fp32


def q41_weight(rows: int, blocks: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (rows, 32*blocks) on a Q4_1 grid d*q + m, each block using codes 0 and 15; d)."""
    g = torch.Generator().manual_seed(seed)
    d = torch.rand(rows, blocks, 1, generator=g, dtype=torch.float64) * 0.02 + 0.001
    m = -d * (torch.rand(rows, blocks, 1, generator=g, dtype=torch.float64) * 15)  # the blocks span 0
    q = torch.randint(0, 16, (rows, blocks, 32), generator=g).double()
    q[..., 0], q[..., 1] = 0, 15
    return (d * q + m).reshape(rows, -1), d[..., 0]


def test_sides_are_a_step_apart_and_leave_integer_zero_points():
    w, d = q41_weight(8, 3)
    low, high = leftover_sides(w)
    torch.testing.assert_close(high - low, d)
    assert bool((low <= 1e-12).all()) and bool((high > 0).all())
    blocks = w.reshape(8, 3, 32)
    for r in (low, high):
        zero = -(blocks.min(-1).values - r) / d                       # w - r = d * (q - zero)
        torch.testing.assert_close(zero, zero.round())
        assert zero.round().min() >= 0 and zero.round().max() <= 15


def test_nearest_takes_the_smaller_leftover_and_calibrated_never_does_worse():
    w, _ = q41_weight(64, 6, seed=1)
    low, high = leftover_sides(w)
    nearest = choose_sides(low, high)
    torch.testing.assert_close(nearest.abs(), torch.minimum(low.abs(), high.abs()))
    s = torch.randn(500, 6, dtype=torch.float64) @ torch.randn(6, 6, dtype=torch.float64)  # correlated block sums
    moment = s.T @ s / len(s)
    calibrated = choose_sides(low, high, moment)
    cost = lambda r: ((r @ moment) * r).sum(1)                        # noqa: E731  E[(S . r)^2] per row
    assert bool((cost(calibrated) <= cost(nearest) + 1e-15).all())
    assert bool((cost(calibrated) < 0.9 * cost(nearest)).any())
    for b in range(6):                                                # no single flip lowers it any more
        flipped = calibrated.clone()
        flipped[:, b] = torch.where(calibrated[:, b] == low[:, b], high[:, b], low[:, b])
        assert bool((cost(flipped) >= cost(calibrated) - 1e-15).all())
    diagonal = torch.diag(torch.diag(moment))                          # independent blocks: nearest is best
    torch.testing.assert_close(choose_sides(low, high, diagonal), nearest)


@pytest.fixture(scope="module")
def tiny_model(tiny_llm):
    return load_fp32(tiny_llm)


def test_drop_leftovers_shifts_each_block_of_the_matched_linears_only(tiny_model):
    saved = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    windows = [list(range(10, 60)), list(range(100, 140))]
    try:
        moments = block_sum_moments(tiny_model, windows, r"down_proj$")
        assert sorted(moments) == ["0.mlp.down_proj", "1.mlp.down_proj"]
        for m in moments.values():
            assert m.shape == (4, 4) and bool((torch.linalg.eigvalsh(m) > -1e-9).all())  # K 128: 4 blocks
        assert drop_leftovers(tiny_model, r"down_proj$", moments) == 2
        for name, module in decoder_linears(tiny_model).items():
            before = saved[f"model.layers.{name}.weight"]
            shift = (before - module.weight.data).reshape(before.shape[0], -1, 32)
            if not name.endswith("down_proj"):
                assert torch.equal(shift, torch.zeros_like(shift))
                continue
            torch.testing.assert_close(shift, shift[..., :1].expand_as(shift), atol=1e-6, rtol=0)  # one r a block
            step = (before.reshape(shift.shape).amax(-1) - before.reshape(shift.shape).amin(-1)) / 15
            assert bool((shift[..., 0].abs() <= step + 1e-6).all())
    finally:
        tiny_model.load_state_dict(saved)


def test_the_mean_bias_puts_the_leftovers_average_effect_back_and_comes_off_again(tiny_model):
    saved = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    windows = [list(range(10, 60)), list(range(100, 140))]
    captured = {}
    hook = tiny_model.model.layers[0].mlp.down_proj.register_forward_hook(
        lambda mod, args, out: captured.setdefault("x", []).append(args[0].reshape(-1, args[0].shape[-1])))
    try:
        means = block_sum_means(tiny_model, windows, r"down_proj$")
        hook.remove()                                                    # captured: the windows' tokens once
        exact = [tiny_model(input_ids=torch.tensor([ids])).logits for ids in windows]
        x = torch.cat(captured["x"]).detach().double()                # layer 0's down inputs, every token
        s = x.reshape(len(x), -1, 32).sum(-1)
        torch.testing.assert_close(means["0.mlp.down_proj"], s.mean(0))
        assert drop_leftovers(tiny_model, r"down_proj$", means=means) == 2
        module = tiny_model.model.layers[0].mlp.down_proj
        r = (saved["model.layers.0.mlp.down_proj.weight"] - module.weight.data).reshape(module.out_features, -1, 32)[..., 0]
        torch.testing.assert_close(module.bias.data.double(), r.double() @ s.mean(0), atol=1e-6, rtol=1e-4)
        # on the calibration tokens the bias leaves the leftover's error with mean zero
        error = x @ (saved["model.layers.0.mlp.down_proj.weight"] - module.weight.data).double().T - module.bias.double()
        assert float(error.mean(0).abs().max()) < 1e-5
        drop_biases(tiny_model)
        assert all(m.bias is None for m in decoder_linears(tiny_model).values())
        tiny_model.load_state_dict(saved)
        torch.testing.assert_close(tiny_model(input_ids=torch.tensor([windows[0]])).logits, exact[0])
    finally:
        hook.remove()
        drop_biases(tiny_model)
        tiny_model.load_state_dict(saved)
