"""Pruned (or smoothed) copies of a causal LM's safetensors folder, for the exporter (host only, PyTorch).

    from edge.generator.prune import derived_folder
    folder, folder_id = derived_folder(base, base_id, drop_layers=(20, 22), sparsity=0.0,
                                       calibration_id="", calibration_texts=None)

Structured: whole decoder blocks removed (the ones whose block influence is lowest, chosen by the
caller from edge/generator/calibrate.py); the model is smaller and every token is cheaper.
Unstructured: Wanda (|W| x input-feature norm on calibration tokens), the lowest `sparsity` share of
each output row's weights set to zero; onnxruntime's CPU kernels are dense, so this saves no time
and no bytes (the zeros are still stored): the study shows it for that reason. Smoothing
(edge/generator/smooth.py, after any pruning) changes no product, only where int8 will round.
Cached under cache_dir("generator") by the hash of the base weights, the changes and the
calibration texts.
"""
from __future__ import annotations

import json
from pathlib import Path

from common.atomic import atomic_dir
from common.cache_keys import json_key
from common.paths import cache_dir
from common.threads import default_threads

CALIBRATION_TOKENS = 2048


def drop_blocks(model, drop: tuple[int, ...]) -> None:
    """Remove decoder blocks in place and renumber the rest (config and attention layer_idx)."""
    import torch

    keep = [layer for i, layer in enumerate(model.model.layers) if i not in set(drop)]
    for i, layer in enumerate(keep):
        if hasattr(layer.self_attn, "layer_idx"):
            layer.self_attn.layer_idx = i
    model.model.layers = torch.nn.ModuleList(keep)
    model.config.num_hidden_layers = len(keep)
    if getattr(model.config, "layer_types", None):
        model.config.layer_types = [t for i, t in enumerate(model.config.layer_types) if i not in set(drop)]


def wanda(model, norms: dict, sparsity: float) -> None:
    """Zero the lowest-scoring `sparsity` share of each output row of every decoder linear."""
    import torch

    with torch.no_grad():
        for name, module in model.model.layers.named_modules():
            if name not in norms:
                continue
            score = module.weight.abs() * norms[name][None, :]           # (out, in)
            k = int(score.shape[1] * sparsity)
            drop = torch.topk(score, k, dim=1, largest=False).indices
            module.weight.scatter_(1, drop, 0.0)


def derived_folder(base: Path, base_id: str, drop_layers: tuple[int, ...], sparsity: float,
                   calibration_id: str, calibration_texts: list[str] | None, log=print,
                   smooth: float = 0.0) -> tuple[Path, str]:
    """(folder, identity) of the base model with `drop_layers` removed, Wanda `sparsity` applied
    and SmoothQuant at alpha `smooth` (0: none)."""
    fields = [base_id, sorted(drop_layers), sparsity, calibration_id if sparsity else "", CALIBRATION_TOKENS, 1]
    if smooth:  # in the key only when set, so the folders pruned before it stay valid
        fields += ["smooth", smooth, calibration_id]
    key = json_key(fields)
    target = cache_dir("generator") / f"src-{key}"
    if (target / "config.json").exists():
        return target, f"derived:{key}"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (sparsity or smooth) and not calibration_texts:
        raise ValueError("Wanda sparsity and smoothing need calibration texts")
    torch.set_num_threads(default_threads())
    log(f"generator: deriving {base.name}: drop blocks {list(drop_layers)}, sparsity {sparsity:.0%}, smooth {smooth}")
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    if sparsity or smooth:
        from edge.generator.calibrate import input_norms, token_windows

        windows = token_windows(lambda t: tokenizer(t, add_special_tokens=False).input_ids,
                                calibration_texts, CALIBRATION_TOKENS)
    if sparsity:
        wanda(model, input_norms(model, windows), sparsity)
    if drop_layers:
        drop_blocks(model, tuple(drop_layers))
    if smooth:
        from edge.generator.smooth import smooth_llama

        smooth_llama(model, windows, smooth)
    with atomic_dir(target, replace=False) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "PRUNED.json").write_text(json.dumps({"base": base_id, "drop_layers": list(drop_layers),
                                                     "sparsity": sparsity, "smooth": smooth,
                                                     "calibration": calibration_id}))
    return target, f"derived:{key}"
