"""Measurements on calibration text that choose what to compress (PyTorch, host only).

    from edge.generator.calibrate import token_windows, layer_sensitivity, block_influence
    windows = token_windows(tokenizer, texts, max_tokens=1024)        # list of (<=256,) id lists
    costs = layer_sensitivity(model, windows)   # per decoder layer: NLL increase with it at int4
    scores = block_influence(model, windows)    # per block: 1 - cos(input, output), ShortGPT's BI

Sensitivity fake-quantizes one decoder layer's seven linear weights at a time with the same grid
as the int4 export (round to nearest, symmetric, block 32 along the input dimension, the block's
largest-magnitude weight mapped to -8 as onnxruntime's MLAS quantizer does) and measures the mean
next-token NLL on the calibration windows: the layers that cost most are the ones kept at int8.
Block influence needs one forward pass: a block whose output is nearly its input can go.
"""
from __future__ import annotations

from common.cache_keys import json_key


def texts_id(texts: list[str]) -> str:
    return json_key(texts)


def token_windows(encode, texts: list[str], max_tokens: int, window: int = 256, min_len: int = 16) -> list[list[int]]:
    """Each text's token ids cut into windows of at most `window` (shorter than `min_len`: dropped),
    in order, until `max_tokens` tokens. `encode`: text -> ids (no special tokens)."""
    windows, total = [], 0
    for text in texts:
        ids = encode(text)
        for start in range(0, len(ids), window):
            chunk = ids[start:start + window]
            if len(chunk) < min_len:
                continue
            chunk = chunk[:max_tokens - total]
            windows.append(chunk)
            total += len(chunk)
            if total >= max_tokens:
                return windows
    return windows


def rtn_int4(weight, block: int = 32):
    """Fake-quantized copy of a (out, in) weight: symmetric int4, blocks of `block` along `in`."""
    from edge.generator.gptq import rtn

    return rtn(weight, block, symmetric=True)


def _linears(layer):
    import torch

    return [m for m in layer.modules() if isinstance(m, torch.nn.Linear)]


def mean_nll(model, windows: list[list[int]]) -> float:
    """Mean next-token NLL over the windows (teacher-forced, one window at a time)."""
    import torch

    total, count = 0.0, 0
    with torch.inference_mode():
        for ids in windows:
            x = torch.tensor([ids])
            logits = model(input_ids=x).logits[0, :-1].double()  # (T-1, V)
            nll = torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum")
            total, count = total + float(nll), count + len(ids) - 1
    return total / max(count, 1)


def layer_sensitivity(model, windows: list[list[int]], log=print) -> list[float]:
    """NLL increase on `windows` when only decoder layer i is int4 (RTN, block 32), for every i."""
    import torch

    base = mean_nll(model, windows)
    costs = []
    for i, layer in enumerate(model.model.layers):
        saved = [(m, m.weight.data.clone()) for m in _linears(layer)]
        with torch.no_grad():
            for m, w in saved:
                m.weight.data = rtn_int4(w)
        costs.append(mean_nll(model, windows) - base)
        for m, w in saved:
            m.weight.data = w
        log(f"sensitivity: layer {i}: +{costs[-1]:.4f} nats")
    return costs


def block_influence(model, windows: list[list[int]]) -> list[float]:
    """ShortGPT's block influence per decoder block: 1 - mean cosine(hidden in, hidden out)."""
    import torch

    from edge.block_influence import block_influence as influence

    return influence(model, ({"input_ids": torch.tensor([ids])} for ids in windows))


def input_norms(model, windows: list[list[int]]) -> dict[str, object]:
    """Per decoder linear: the L2 norm of each input feature over the calibration tokens (Wanda)."""
    sums = per_input_feature(model, windows, lambda acc, x: (0 if acc is None else acc) + (x.double() ** 2).sum(dim=0))
    return {name: value.sqrt().float() for name, value in sums.items()}


def input_absmax(model, windows: list[list[int]]) -> dict[str, object]:
    """Per decoder linear: the largest |value| of each input feature over the calibration tokens
    (SmoothQuant, edge/generator/smooth.py)."""
    import torch

    def update(acc, x):
        top = x.abs().amax(dim=0)
        return top if acc is None else torch.maximum(acc, top)
    return {name: value.float() for name, value in per_input_feature(model, windows, update).items()}


def per_input_feature(model, windows: list[list[int]], update) -> dict[str, object]:
    """{name: update(previous or None, x (tokens, in_features))} folded over every forward of every
    decoder linear (named as in model.model.layers) on the calibration windows."""
    import torch

    acc: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in model.model.layers.named_modules():
        if isinstance(module, torch.nn.Linear):
            def hook(mod, args, _out, name=name):
                acc[name] = update(acc.get(name), args[0].reshape(-1, args[0].shape[-1]))
            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.inference_mode():
            for ids in windows:
                model(input_ids=torch.tensor([ids]))
    finally:
        for h in hooks:
            h.remove()
    return acc
