"""A causal LM computing on the grids onnxruntime's MatMulNBits stores, as PyTorch fake quantization
with straight-through rounding (host only): what edge/generator/qat.py trains.

    from edge.generator.fake_quant import Grid, attach_fake_quant, grid_weights
    student = attach_fake_quant(model, Grid(block=32))          # int4 as the builder's `-p int4` stores it
    student = attach_fake_quant(model, Grid(symmetric=False, head_bits=8))  # int4-asym-head8's grids
    grid_weights(plain_model, Grid())                           # the same rounding, in place, until it settles

The builder's grids, per block of `block` inputs (a short last block zero-padded, as MLAS pads it):
- symmetric int4: the block's largest-magnitude weight at code -8 (scale = that weight / -8), codes
  -8..7 (edge/generator/gptq.py's grid);
- asymmetric (is_symmetric=false), int4 or int8: the block's span [min(w, 0), max(w, 0)] in 15 or
  255 steps, with an integer zero point.
The decoder Linears take the body's grid, the LM head its own (`head_bits`: the builder's
last_matmul:int8 for 8); a tied input embedding reads the head's rounded weights, as the export's
embedding reads them. Inputs may be rounded to int8 in blocks as accuracy level 4 does. Rounding a
weight this way until it settles (grid_weights) puts it where the builder's own rounding re-codes
it exactly.
With `learn_scales` (symmetric int4 only) each block's scale is a parameter instead (LSQ, Esser et
al. 2020: its log magnitude, started at the builder's scale); the export must then write the codes
itself (edge/generator/learned_grid.py).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Grid:
    """block: inputs per scale; symmetric: the body's int4 grid (False: integer zero points);
    head_bits: the LM head's bits, 4 (the body's grid) or 8 (asymmetric int8; needs symmetric=False,
    as the builder's is_symmetric applies to its int8 head too); act_int8: round the Linears'
    inputs to int8 in blocks as accuracy level 4 does; learn_scales: learned symmetric int4 scales."""

    block: int = 32
    symmetric: bool = True
    head_bits: int = 4
    act_int8: bool = True
    learn_scales: bool = False

    def __post_init__(self):
        if self.head_bits not in (4, 8) or (self.head_bits == 8 and self.symmetric):
            raise ValueError(f"head_bits {self.head_bits} with symmetric={self.symmetric}: the head is int4, "
                             f"or asymmetric int8 beside an asymmetric body")
        if self.learn_scales and (not self.symmetric or self.head_bits != 4):
            raise ValueError("learned scales are for the symmetric int4 grid only")


def blocks(t, block: int):
    """(t's last axis cut into blocks of `block`, zero-padded at the end as MLAS pads a short last
    block: (..., n, block); the unpadded length)."""
    import torch.nn.functional as F

    cols = t.shape[-1]
    return F.pad(t, (0, -cols % block)).reshape(*t.shape[:-1], -1, block), cols


def on_grid(groups, symmetric: bool, bits: int):
    """Blocks (..., block) rounded to the builder's `bits` grid (symmetric int4, or asymmetric)."""
    from edge.generator.gptq import block_grid, fake_quant

    return fake_quant(groups, *block_grid(groups, symmetric, bits), bits)


def roundings():
    """The two straight-through roundings as torch autograd Functions (built on first use: torch is host-only):
    WeightGrid.apply(w, block, symmetric, bits) and ActivationInt8.apply(x, block)."""
    import torch

    class WeightGrid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, w, block, symmetric, bits):
            groups, cols = blocks(w, block)
            return on_grid(groups, symmetric, bits).reshape(w.shape[0], -1)[:, :cols]

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None, None

    class ActivationInt8(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, block):
            groups, cols = blocks(x, block)
            scale = groups.abs().amax(-1, keepdim=True) / 127
            scale = torch.where(scale == 0, torch.ones_like(scale), scale)
            return (torch.round(groups / scale) * scale).reshape(*x.shape[:-1], -1)[..., :cols]

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    return WeightGrid, ActivationInt8


def learned_grid(weight, block: int):
    """A torch Module holding a learned signed scale per block of `weight` (N, K), started at the
    builder's (the block's largest-magnitude weight at code -8); grid(w) is w on that grid, codes
    clamp(round(w / scale), -8, 7), rounding straight-through and the scales learning as LSQ's do."""
    import torch

    from edge.generator.gptq import block_grid

    class LearnedGrid(torch.nn.Module):
        def __init__(self):
            super().__init__()
            scale, _ = block_grid(blocks(weight.detach(), block)[0], symmetric=True)
            self.register_buffer("sign", torch.sign(scale))
            self.log_scale = torch.nn.Parameter(torch.log(scale.abs()))

        def scale(self):
            """(N, blocks, 1) signed scales."""
            return self.sign * self.log_scale.exp()

        def forward(self, w):
            groups, cols = blocks(w, block)
            scale = self.scale()
            x = groups / scale
            codes = torch.clamp(x + (torch.round(x) - x).detach(), -8, 7)
            return (codes * scale).reshape(w.shape[0], -1)[:, :cols]

    return LearnedGrid()


def attach_fake_quant(model, grid: Grid = Grid()):
    """Make every decoder Linear and the LM head of a Llama-style model compute on `grid`'s weights
    (and int8 inputs); a tied input embedding reads the head's rounded weights too. With
    learn_scales each of them gains a `grid` (learned_grid) whose scales train with the weights.
    In place; the parameters stay the fp32 masters. Returns the model."""
    import torch
    import torch.nn.functional as F

    weight_grid, act_int8_fn = roundings()

    def rounded(module):
        if grid.learn_scales:
            return module.grid(module.weight)
        return weight_grid.apply(module.weight, grid.block, grid.symmetric, module.bits)

    class QuantLinear(torch.nn.Module):
        def __init__(self, linear, bits):
            super().__init__()
            self.weight, self.bias, self.bits = linear.weight, linear.bias, bits
            if grid.learn_scales:
                self.grid = learned_grid(linear.weight, grid.block)

        def forward(self, x):
            x = act_int8_fn.apply(x, grid.block) if grid.act_int8 else x
            return F.linear(x, rounded(self), self.bias)

    class QuantEmbedding(torch.nn.Module):
        def __init__(self, embedding, head):
            super().__init__()
            self.weight, self.bits = embedding.weight, head.bits
            if grid.learn_scales:
                self.grid = head.grid

        def forward(self, ids):
            return F.embedding(ids, rounded(self))

    for layer in model.model.layers:
        for module in list(layer.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Linear):
                    setattr(module, name, QuantLinear(child, 4))
    tied = model.lm_head.weight is model.model.embed_tokens.weight
    model.lm_head = QuantLinear(model.lm_head, grid.head_bits)
    if tied:
        model.model.embed_tokens = QuantEmbedding(model.model.embed_tokens, model.lm_head)
    return model


def learned_weights(student) -> dict:
    """{name: (weight on its learned grid, signed scales (N, blocks))} of a student made by
    attach_fake_quant with learn_scales, one entry per Linear (the tied embedding is the head's)."""
    import torch

    with torch.no_grad():
        return {name.removesuffix(".grid"): (module(student.get_submodule(name.removesuffix(".grid")).weight),
                                             module.scale()[..., 0])
                for name, module in student.named_modules(remove_duplicate=False) if name.endswith(".grid")
                and not name.startswith("model.embed_tokens")}


def grid_weights(model, grid: Grid = Grid()) -> None:
    """Replace, in place, the weights attach_fake_quant would round by their rounded values (on a
    plain model: decoder Linears, LM head, and a tied embedding with it). Rounded again until
    nothing moves: the builder derives each block's grid from the weights it is given, and an
    asymmetric block whose extreme weight sat on a rounding tie (as the zoo's Q4_1 weights do) does
    not reach both ends of its grid after one rounding."""
    import torch

    weight_grid, _ = roundings()

    def settled(weight, bits):
        for _ in range(8):
            rounded = weight_grid.apply(weight, grid.block, grid.symmetric, bits)
            if torch.allclose(rounded, weight, rtol=1e-6, atol=0):  # what is left is float rounding
                break
            weight = rounded
        return weight

    with torch.no_grad():
        for module in model.model.layers.modules():
            if isinstance(module, torch.nn.Linear):
                module.weight.copy_(settled(module.weight, 4))
        model.lm_head.weight.copy_(settled(model.lm_head.weight, grid.head_bits))
