"""Q4_1 weights with integer zero points only, as PyTorch fake quantization (host only): which of a
decoder's MatMuls need int4-q41-fold's leftover correction? `bench/q41_leftover.py` asks it.

    from edge.generator.leftover import block_sum_moments, drop_leftovers
    moments = block_sum_moments(model, calibration_windows)    # {Linear name: E[S S^T]}
    drop_leftovers(model, r"\\.down_proj$", moments)             # those Linears lose their leftovers
    drop_leftovers(model, r"_proj$", means=block_sum_means(model, calibration_windows))  # ... but keep their mean

onnxruntime's fast int4 kernel takes integer zero points. A Q4_1 block w = d*q + m needs z = -m/d,
rarely an integer (edge/generator/q41.py), so int4-q41-fold adds the block's leftover back through
the block sums of the MatMul's input, two more kernels per input. Without it a block keeps its
codes and scale and takes z = floor(-m/d) or the integer above; its 32 weights then all carry the
error r = m + d*z (in (-d, 0] or (0, d]). Two ways to pick the side:
- nearest: the smaller |r| (what round-to-nearest asymmetric int4 of these weights gives);
- calibrated: the side that makes the MatMul's output error E[(S . r)^2] smallest over calibration
  text, S the input's sums over each block of 32 (AdaRound's up-or-down choice, applied to the
  zero point), by coordinate descent from nearest, each output row on its own.
With `means`, nearest's leftovers are put back on average: each output gains the bias E[S] . r over
calibration text, which MatMulNBits would take as its bias input at no extra kernel.
"""
from __future__ import annotations

import re

BLOCK = 32


def leftover_sides(weight):
    """(low side, high side), each (N, K/32) float64: the leftover r = m + d*z of each block of a
    (N, K) weight on a Q4_1 grid for the zero point z = floor(-m/d) (kept within 0..14) and z + 1."""
    import torch

    n, k = weight.shape
    w = weight.double().reshape(n, k // BLOCK, BLOCK)
    low, high = w.min(-1).values, w.max(-1).values
    d = (high - low) / 15
    d = torch.where(d == 0, torch.ones_like(d), d)
    zero = torch.floor(-low / d).clamp(0, 14)
    r_low = low + d * zero
    return r_low, r_low + d


def choose_sides(r_low, r_high, moment=None, sweeps: int = 8):
    """The leftover of each block (N, K/32): nearest when `moment` is None, else the sides that
    lower r^T moment r for each row (moment: the (K/32, K/32) second moment of the block sums)."""
    import torch

    r = torch.where(r_low.abs() <= r_high.abs(), r_low, r_high)
    if moment is None:
        return r
    for _ in range(sweeps):
        flips = 0
        for b in range(r.shape[1]):
            other = torch.where(r[:, b] == r_low[:, b], r_high[:, b], r_low[:, b])
            step = other - r[:, b]
            gain = 2 * step * (r @ moment[:, b]) + step * step * moment[b, b]  # change of r^T M r
            better = gain < 0
            flips += int(better.sum())
            r[:, b] = torch.where(better, other, r[:, b])
        if not flips:
            break
    return r


def decoder_linears(model, pattern: str = ".") -> dict:
    """{name inside model.model.layers: Linear} for the names `pattern` (a regex) finds."""
    import torch

    return {n: m for n, m in model.model.layers.named_modules()
            if isinstance(m, torch.nn.Linear) and re.search(pattern, n)}


def block_sum_moments(model, windows: list[list[int]], pattern: str = ".") -> dict:
    """{Linear name: (K/32, K/32) float64 E[S S^T]} of each matched Linear's input block sums S,
    over the windows' tokens, on the model as it stands."""
    return _block_sum_average(model, windows, pattern, lambda s: s.T @ s)


def block_sum_means(model, windows: list[list[int]], pattern: str = ".") -> dict:
    """{Linear name: (K/32,) float64 E[S]} of each matched Linear's input block sums S."""
    return _block_sum_average(model, windows, pattern, lambda s: s.sum(0))


def _block_sum_average(model, windows: list[list[int]], pattern: str, total_of) -> dict:
    """{Linear name: total_of(S) summed over the windows' tokens / their count}, S (tokens, K/32)."""
    from edge.generator.calibrate import per_input_feature

    def update(previous, x):
        s = x.double().reshape(x.shape[0], -1, BLOCK).sum(-1)        # (tokens, K/32)
        total, count = previous or (0, 0)
        return total + total_of(s), count + s.shape[0]

    sums = per_input_feature(model, windows, update)
    return {name: total / count for name, (total, count) in sums.items() if re.search(pattern, name)}


def drop_leftovers(model, pattern: str, moments: dict | None = None, means: dict | None = None) -> int:
    """Each matched decoder Linear's weight w becomes w - r over each block (r from choose_sides;
    calibrated where `moments` has the Linear) and, where `means` has it, gains the bias r . E[S]
    (remove it with `drop_biases`). Returns how many Linears changed."""
    import torch

    linears = decoder_linears(model, pattern)
    with torch.no_grad():
        for name, module in linears.items():
            w = module.weight.data
            r = choose_sides(*leftover_sides(w), (moments or {}).get(name))
            module.weight.data = (w.double() - r.repeat_interleave(BLOCK, dim=1)).to(w.dtype)
            if name in (means or {}):
                if module.bias is not None:
                    raise ValueError(f"{name} has a bias of its own; the leftover's mean would hide it")
                module.bias = torch.nn.Parameter((r @ means[name]).to(w.dtype), requires_grad=False)
                module.leftover_bias = True
    return len(linears)


def drop_biases(model) -> None:
    """Remove the biases `drop_leftovers` added, so the model's state dict loads again."""
    for module in decoder_linears(model).values():
        if getattr(module, "leftover_bias", False):
            module.bias, module.leftover_bias = None, False
