"""Quality of an exported causal LM: perplexity, next-token agreement, parity with PyTorch.

    from edge.generator.quality import teacher_forced, compare, pytorch_parity
    ref = teacher_forced(fp32_folder, windows)           # {"nll": (N,), "argmax": (N,)} over windows
    got = teacher_forced(int4_folder, windows)
    compare(got, ref)                                    # {"perplexity", "agreement", "tokens"}
    pytorch_parity(hf_folder, fp32_folder, prompts)      # max |logprob diff|, greedy tokens equal

Teacher forcing: every window is fed whole from an empty cache, so both models see the same
prefix at every position (a free-running continuation diverges after one differing token).
Results are cached by the model folder's name (which holds its input hash) and the windows' hash,
under cache_dir("generator")/quality, so a rerun of the benchmark re-measures only what changed.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.cache_keys import json_key
from common.paths import cache_dir


def windows_id(windows: list[list[int]]) -> str:
    return json_key(windows)


def cached_npz(name: str, compute, folder: Path | None = None) -> dict[str, np.ndarray]:
    """`compute()` (a dict of arrays) stored once as <folder>/<name>.npz (default folder:
    cache_dir("generator")/quality)."""
    path = Path(folder or cache_dir("generator") / "quality") / f"{name}.npz"
    if path.exists():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    value = compute()
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **value)
    return value


def teacher_forced(folder: Path, windows: list[list[int]], threads: int = 1, steps: bool = False) -> dict[str, np.ndarray]:
    """Per predicted token over all windows: its NLL and the model's argmax (cached on disk);
    steps: fed one token a step through the KV cache, as generation runs (default: each window
    in one forward pass)."""
    from edge.runtime.causal_lm import CausalLM, teacher_forced_stats

    def compute():
        nll, argmax = teacher_forced_stats(CausalLM(folder, threads=threads), windows, steps=steps)
        return {"nll": nll, "argmax": argmax}

    return cached_npz(f"{Path(folder).name}-{windows_id(windows)}{'-steps' if steps else ''}", compute)


def torch_teacher_forced(model, windows: list[list[int]]) -> dict[str, np.ndarray]:
    """The same measurement on a PyTorch model (the "PyTorch fp32" row)."""
    import torch

    nll, argmax = [], []
    with torch.inference_mode():
        for ids in windows:
            logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].double()
            logp = torch.log_softmax(logits, dim=-1).numpy()
            nll.append(-logp[np.arange(len(ids) - 1), np.asarray(ids[1:])])
            argmax.append(logp.argmax(axis=-1))
    return {"nll": np.concatenate(nll), "argmax": np.concatenate(argmax).astype(np.int32)}


def torch_reference(model_name: str, windows: list[list[int]]):
    """(PyTorch fp32 model, a copy of its state to restore, cache key of model and windows, its
    teacher-forced result) for fake-quantization rows measured against it (bench int4_blocks,
    bench q41_leftover)."""
    import torch
    from transformers import AutoModelForCausalLM

    from common.models import causal_lm_path, model_fingerprint

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(causal_lm_path(model_name), dtype=torch.float32).eval()
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    key = f"{model_name}-{model_fingerprint(model_name)}-{windows_id(windows)}"
    return model, saved, key, cached_npz(f"torch-fp32-{key}", lambda: torch_teacher_forced(model, windows))


def compare(got: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, float]:
    return {"perplexity": float(math.exp(got["nll"].mean())),
            "agreement": float((got["argmax"] == ref["argmax"]).mean()), "tokens": int(got["nll"].size)}


def pytorch_parity(hf_folder: Path, onnx_folder: Path, prompts: list[str], new_tokens: int = 16) -> dict:
    """ONNX against PyTorch on fixed prompts: the max |log-probability difference| over every
    position of each prompt, and whether greedy decoding gives the same `new_tokens` tokens."""
    import torch
    from transformers import AutoModelForCausalLM

    from edge.runtime.causal_lm import CausalLM, log_softmax

    model = AutoModelForCausalLM.from_pretrained(hf_folder, dtype=torch.float32).eval()
    lm = CausalLM(onnx_folder, threads=1)
    max_diff, same, details = 0.0, True, []
    for prompt in prompts:
        ids = lm.encode(prompt)
        with torch.inference_mode():
            ref = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), dim=-1).numpy()
            greedy_ref = model.generate(torch.tensor([ids]), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                        do_sample=False, attention_mask=torch.ones(1, len(ids), dtype=torch.long))
        diff = float(np.abs(log_softmax(lm.forward(ids)) - ref).max())
        greedy = lm.generate_ids(ids, new_tokens, stop_at_eos=False)
        match = greedy == greedy_ref[0, len(ids):].tolist()
        max_diff, same = max(max_diff, diff), same and match
        details.append({"prompt": prompt, "max_abs_logprob_diff": diff, "greedy_same": match})
    return {"max_abs_logprob_diff": max_diff, "greedy_same": same, "prompts": details}
