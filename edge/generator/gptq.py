"""int4 at any block size by round-to-nearest or GPTQ, as fake quantization of a PyTorch causal LM
(host only): can blocks larger than the weights' Q4_1 grid (cheaper for onnxruntime's int4
kernel) stay intact with a calibrated quantizer? `bench/int4_blocks.py` asks it.

    from edge.generator.gptq import QuantSpec, quantize_model
    quantize_model(model, QuantSpec("gptq", block=128, symmetric=False), calibration_windows)
    # every decoder Linear now holds int4 weights, dequantized on MatMulNBits' grid scale * (q - zero)

The grid is MatMulNBits': codes q in 0..15 per block of `block` inputs; symmetric blocks have zero
8 and map their largest-magnitude weight to -8 steps exactly (the builder's RTN), asymmetric ones
span [min(w, 0), max(w, 0)] in 15 steps with an integer zero point (the fast kernel's form).

GPTQ (Frantar et al., 2022): the columns (inputs) of a weight are quantized in order and each one's
rounding error is spread over the columns not yet quantized through the inverse Hessian of the
layer's inputs, H = 2 X^T X over the calibration tokens. A block's scale and zero are set from its
weights as they stand when GPTQ reaches it. Decoder layers go in order, each calibrated on what the
already quantized layers before it output (the Linears of one layer all from the same pass).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuantSpec:
    """method: "rtn" or "gptq"; block: inputs per scale; damp: GPTQ's diagonal damping (share of mean(diag H))."""

    method: str = "gptq"
    block: int = 128
    symmetric: bool = False
    damp: float = 0.01

    @property
    def name(self) -> str:
        return f"{self.method}-b{self.block}-{'sym' if self.symmetric else 'asym'}"

    @classmethod
    def parse(cls, text: str) -> QuantSpec:
        """"gptq-b128-asym" -> QuantSpec("gptq", 128, False); ValueError on anything else."""
        method, block, kind = text.split("-")
        if method not in ("rtn", "gptq") or not block.startswith("b") or kind not in ("sym", "asym"):
            raise ValueError(text)
        size = int(block[1:])
        if size < 16 or size & (size - 1):
            raise ValueError(text)
        return cls(method, size, kind == "sym")


def block_grid(w, symmetric: bool, bits: int = 4):
    """(scale, zero), each (O, 1), of a block of weights w (O, G) on MatMulNBits' `bits` grid."""
    import torch

    if symmetric:
        half = 2.0 ** (bits - 1)
        peak = torch.gather(w, -1, w.abs().argmax(-1, keepdim=True))
        scale = peak / -half
        scale = torch.where(scale == 0, torch.ones_like(scale), scale)
        return scale, torch.full_like(scale, half)
    top = 2 ** bits - 1
    low = w.min(-1, keepdim=True).values.clamp(max=0)
    high = w.max(-1, keepdim=True).values.clamp(min=0)
    scale = (high - low) / top
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    return scale, torch.clamp(torch.round(-low / scale), 0, top)


def fake_quant(w, scale, zero, bits: int = 4):
    """w rounded to the grid scale * (q - zero), q in 0..2**bits - 1."""
    import torch

    return scale * (torch.clamp(torch.round(w / scale) + zero, 0, 2 ** bits - 1) - zero)


def rtn(weight, block: int, symmetric: bool):
    """Round-to-nearest copy of a (out, in) weight, blocks of `block` along `in` (the last one may be short)."""
    import torch

    out = torch.empty_like(weight)
    for start in range(0, weight.shape[1], block):
        part = weight[:, start:start + block]
        out[:, start:start + block] = fake_quant(part, *block_grid(part, symmetric))
    return out


def gptq(weight, hessian, block: int, symmetric: bool, damp: float = 0.01, lazy: int = 128):
    """GPTQ copy of a (out, in) weight given the (in, in) Hessian of its inputs."""
    import torch

    w = weight.clone().float()
    h = hessian.clone().double()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h += damp * torch.mean(torch.diag(h)) * torch.eye(h.shape[0], dtype=h.dtype)
    h_inv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True).float()
    out = torch.zeros_like(w)
    columns = w.shape[1]
    scale = zero = None
    for i1 in range(0, columns, lazy):
        i2 = min(i1 + lazy, columns)
        w1, errors, h1 = w[:, i1:i2].clone(), torch.zeros(w.shape[0], i2 - i1), h_inv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            if (i1 + i) % block == 0:
                group = w1[:, i:i + block] if i + block <= i2 - i1 else torch.cat(
                    [w1[:, i:], w[:, i2:i1 + i + block]], dim=1)
                scale, zero = block_grid(group, symmetric)
            column = w1[:, i:i + 1]
            q = fake_quant(column, scale, zero)
            out[:, i1 + i] = q[:, 0]
            error = (column - q) / h1[i, i]
            w1[:, i:] -= error @ h1[i:i + 1, i:]
            errors[:, i:i + 1] = error
        w[:, i2:] -= errors @ h_inv[i1:i2, i2:]
    return out


class _Stop(Exception):
    pass


def _layer_hessians(model, layer, windows: list[list[int]]) -> dict[str, object]:
    """{Linear name in `layer`: 2 X^T X of its inputs} over the windows; the forward stops after `layer`."""
    import torch

    sums: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in layer.named_modules():
        if isinstance(module, torch.nn.Linear):
            def hook(_mod, args, _out, name=name):
                x = args[0].reshape(-1, args[0].shape[-1]).double()
                sums[name] = sums.get(name, 0) + 2 * x.T @ x
            hooks.append(module.register_forward_hook(hook))

    def stop(*_):
        raise _Stop

    hooks.append(layer.register_forward_hook(stop))
    try:
        with torch.inference_mode():
            for ids in windows:
                try:
                    model(input_ids=torch.tensor([ids]))
                except _Stop:
                    pass
    finally:
        for h in hooks:
            h.remove()
    return sums


def quantize_model(model, spec: QuantSpec, windows: list[list[int]] | None = None, progress=None) -> None:
    """Replace every decoder Linear's weight by its int4 fake quantization (`windows`: GPTQ's
    calibration token windows). progress: called once per layer done (e.g. a tqdm's update)."""
    import torch

    if spec.method == "gptq" and not windows:
        raise ValueError("GPTQ needs calibration windows")
    for layer in model.model.layers:
        linears = {n: m for n, m in layer.named_modules() if isinstance(m, torch.nn.Linear)}
        hessians = _layer_hessians(model, layer, windows) if spec.method == "gptq" else {}
        with torch.no_grad():
            for name, module in linears.items():
                w = module.weight.data
                module.weight.data = (rtn(w, spec.block, spec.symmetric) if spec.method == "rtn" else
                                      gptq(w, hessians[name], spec.block, spec.symmetric, spec.damp))
        if progress:
            progress()
