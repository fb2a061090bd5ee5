"""A causal LM of a real model's shape with random weights on the zoo's GGUF grids (host only).

    from edge.generator.grid_model import grid_model
    folder = grid_model(causal_lm_path("smollm2"))   # cache/models/smollm2-grid-<hash>/, HF folder
    build_variant(VARIANTS["int4-q41-fold"], str(folder))

onnxruntime's CPU kernels are dense, so a variant's decode speed does not depend on its weights'
values: a machine without the model zoo (or one that cannot take the zoo's 100 MB) can time every
variant of the study on weights like these. They are put where the zoo's are: every decoder
Linear on a GGUF Q4_1 grid (blocks of 32 along the input, w = m + d*q, q in 0..15) and the tied
embedding / LM head on a Q8_0 grid (w = d*q, |q| <= 127), so edge/generator/q41.py re-codes them
as it does the zoo's and the int4-q41 variants keep their shape. No quality can be read from them.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from common.atomic import atomic_dir
from common.cache_keys import json_key
from common.paths import cache_dir

BLOCK = 32
GRID_CODE = 1  # bump when the weights written change
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


def on_q41_grid(weight: np.ndarray) -> np.ndarray:
    """`weight` (N, K) moved to the nearest point of a Q4_1 grid of its own block ranges."""
    n, k = weight.shape
    w = weight.astype(np.float64).reshape(n, k // BLOCK, BLOCK)
    low = w.min(-1, keepdims=True)
    d = (w.max(-1, keepdims=True) - low) / 15
    d = np.where(d == 0, 1.0, d)
    return (low + d * np.clip(np.round((w - low) / d), 0, 15)).reshape(n, k).astype(np.float32)


def on_q80_grid(weight: np.ndarray) -> np.ndarray:
    """`weight` (N, K) moved to the nearest point of a Q8_0 grid (d = the block's largest |w| / 127)."""
    n, k = weight.shape
    w = weight.astype(np.float64).reshape(n, k // BLOCK, BLOCK)
    d = np.abs(w).max(-1, keepdims=True) / 127
    d = np.where(d == 0, 1.0, d)
    return (d * np.round(w / d)).reshape(n, k).astype(np.float32)


def grid_model(source: Path, seed: int = 0, log=print) -> Path:
    """The HF folder of a model shaped as `source`'s config.json, random (its config's init, torch
    seed `seed`) and on the grids above; `source`'s tokenizer files copied. Cached by the config's
    text, the seed and GRID_CODE."""
    source = Path(source)
    config_text = (source / "config.json").read_text()
    key = json_key([config_text, seed, GRID_CODE])
    target = cache_dir("models") / f"{source.name.split('-')[0]}-grid-{key}"
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    log(f"grid model: random weights of {source.name}'s shape (seed {seed}) -> {target}")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source), dtype=torch.float32).eval()
    embedding = model.get_input_embeddings().weight

    def put(weight, grid):
        if weight.shape[1] % BLOCK == 0:  # else left random: no grid of blocks of 32 fits it
            weight.copy_(torch.from_numpy(grid(weight.numpy())))

    with torch.no_grad():
        put(embedding, on_q80_grid)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear) and module.weight.data_ptr() != embedding.data_ptr():
                put(module.weight, on_q80_grid if module is model.get_output_embeddings() else on_q41_grid)
    with atomic_dir(target, replace=False) as tmp:
        model.save_pretrained(tmp)
        for name in TOKENIZER_FILES:
            if (source / name).exists():
                shutil.copy(source / name, tmp / name)
    return target
