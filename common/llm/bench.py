"""Speed of the local LLM stack: conversion, reload, generation tokens/s, prefix-cache scoring.

    from common.llm.bench import bench_llm, format_rows, save_chart
    rows = bench_llm("smollm2", convert=True)   # convert=True re-converts in a temp cache (~25 s)
    print(format_rows(rows)); save_chart(rows, Path("results/bench_llm.png"))

Generation is uncached, greedy, with min_new_tokens = max_new_tokens so every prompt produces
the same number of tokens. Scoring runs `score_continuations` on a ~300-token
context + question with 5 answer options, with and without the prefix KV cache.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

PROMPTS = [
    "Explain why the sky is blue.", "Write a short story about a lighthouse.",
    "List three uses of copper.", "What causes the seasons on Earth?",
    "Describe how a bicycle works.", "Why do cats purr?",
    "Summarize the water cycle.", "What is a prime number?",
]
CONTEXT = (
    "Photosynthesis is the process by which green plants, algae and some bacteria convert light "
    "energy into chemical energy. In plants it takes place mainly in the chloroplasts of leaf "
    "cells, which contain the pigment chlorophyll. Chlorophyll absorbs red and blue light and "
    "reflects green light, which is why leaves look green. During the light-dependent reactions, "
    "water molecules are split, releasing oxygen as a by-product and producing ATP and NADPH. In "
    "the Calvin cycle, these energy carriers drive the fixation of carbon dioxide from the air "
    "into three-carbon sugars, which the plant uses to build glucose, starch and cellulose. "
) * 3
QUESTION = "\nQuestion: Which gas is released as a by-product of photosynthesis?\nAnswer:"
OPTIONS = [" Oxygen", " Carbon dioxide", " Nitrogen", " Methane produced by the chloroplasts", " Helium"]


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _generation_rows(model_name: str, max_new_tokens: int) -> list[dict]:
    from common.llm.generation import GenerationConfig, generate_batch
    from common.models import shared_causal_lm

    model, tokenizer = shared_causal_lm(model_name)
    config = GenerationConfig(max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens)
    generate_batch(model, tokenizer, PROMPTS[:1], config)  # warm-up
    rows = []
    for batch_size in (1, 8):
        batches = [PROMPTS[i : i + batch_size] for i in range(0, len(PROMPTS), batch_size)]
        _, seconds = _timed(lambda: [generate_batch(model, tokenizer, b, config) for b in batches])
        rows.append({"step": f"generate batch {batch_size}", "seconds": seconds,
                     "rate": len(PROMPTS) * max_new_tokens / seconds, "unit": "new tokens/s"})
    return rows


def bench_llm(model_name: str = "smollm2", convert: bool = False, max_new_tokens: int = 32,
              repeats: int = 5) -> list[dict]:
    """Rows of {step, seconds, rate, unit}."""
    import numpy as np

    from common.llm.scoring import score_continuations
    from common.models import causal_lm_path, load_causal_lm

    rows = []
    if convert:
        with tempfile.TemporaryDirectory() as tmp:
            old = os.environ.get("KLLM_CACHE")
            os.environ["KLLM_CACHE"] = tmp
            try:
                _, seconds = _timed(lambda: causal_lm_path(model_name))
            finally:
                os.environ.pop("KLLM_CACHE") if old is None else os.environ.__setitem__("KLLM_CACHE", old)
        rows.append({"step": "convert GGUF -> safetensors", "seconds": seconds, "rate": 1 / seconds, "unit": "models/s"})
    causal_lm_path(model_name)
    _, seconds = _timed(lambda: load_causal_lm(model_name))
    rows.append({"step": "reload converted folder", "seconds": seconds, "rate": 1 / seconds, "unit": "models/s"})
    rows += _generation_rows(model_name, max_new_tokens)
    score_continuations(model_name, CONTEXT + QUESTION, OPTIONS)  # warm-up
    results, times = {}, {False: [], True: []}
    for _ in range(repeats):                   # interleaved rounds: a slow moment of the machine hits both
        for use_cache in (False, True):
            scores, seconds = _timed(lambda: score_continuations(model_name, CONTEXT + QUESTION, OPTIONS,
                                                                 use_prefix_cache=use_cache))
            results[use_cache] = scores.total
            times[use_cache].append(seconds)
    for use_cache in (False, True):
        seconds = sum(times[use_cache])
        rows.append({"step": f"score 5 options, prefix cache {'on' if use_cache else 'off'}", "seconds": seconds,
                     "rate": repeats / seconds, "unit": "questions/s"})
    ratios = [off / on for off, on in zip(times[False], times[True])]
    rows[-1].update(max_abs_diff=float(np.abs(results[True] - results[False]).max()), rounds=repeats,
                    speedup=float(np.median(ratios)), speedup_min=min(ratios), speedup_max=max(ratios))
    return rows


def format_rows(rows: list[dict]) -> str:
    lines = [f"{'step':<36} {'seconds':>8} {'rate':>9}  unit"]
    lines += [f"{r['step']:<36} {r['seconds']:>8.2f} {r['rate']:>9.2f}  {r['unit']}" for r in rows]
    return "\n".join(lines)


def save_chart(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from common.charts import save_png

    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * len(rows)))
    ax.barh([r["step"] for r in rows], [r["seconds"] for r in rows], color="tab:blue")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (lower is better)")
    ax.set_title("local LLM speed on this CPU")
    fig.tight_layout()
    return save_png(fig, path)
