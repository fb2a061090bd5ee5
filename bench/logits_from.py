"""`kllm bench logits_from`: what skipping the LM head for a prompt's unread positions buys a prefill.

    make bench BENCH=logits_from
    python -m cli bench logits_from --variants fp32,int4-q41 --prompts 16,107,300 --threads 1,2 --rounds 5

The builder's graph computes logits for every position of a prefill; a prompt before generation
or option scoring reads only the last (edge/generator/logits_from.py adds the input that says
so; the science-exam bundle ships it). Per variant, thread count and prompt length: the prefill
of the builder's graph returning every row, against the same weights with the Slice asked for
the last row alone, timed by edge/runtime/generate.py's CausalLM, the two interleaved round by
round; the speed-up is the median of the per-round ratios (min-max). Also the largest |difference|
of the last row's logits between the two (0 unless a kernel takes another path for one row).
Chart: cache/bench/logits_from.png.
"""
from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path


def with_logits_from(folder: Path, out: Path) -> Path:
    """`folder`'s model with the logits_from input, in `out` (made once): the graph rewritten, every
    other file copied. onnxruntime wants the weights' file inside the model's folder (not a
    symlink out of it), and onnx refuses a weights file with more than one hard link."""
    from common.atomic import atomic_dir
    from edge.generator.export import SIZES_FILE
    from edge.generator.logits_from import add_logits_from

    if (out / "model.onnx").exists():
        return out
    with atomic_dir(out, replace=False) as tmp:
        for path in Path(folder).iterdir():
            if path.is_file() and path.name not in ("model.onnx", SIZES_FILE):   # the rewritten model has its own size
                shutil.copy(path, tmp / path.name)
        add_logits_from(Path(folder) / "model.onnx", tmp / "model.onnx")
    return out


def measure(plain: Path, sliced: Path, prompts: list[int], threads: list[int], rounds: int) -> list[dict]:
    """One row per (threads, prompt length): prefill ms with every row and with the last row alone."""
    import numpy as np

    from edge.runtime.causal_lm import CausalLM
    from edge.runtime.lm_measure import BENCH_PROMPT

    rows = []
    for n in threads:
        every_lm, last_lm = CausalLM(plain, threads=n), CausalLM(sliced, threads=n)
        text_ids = every_lm.encode(BENCH_PROMPT)
        for length in prompts:
            every_lm.check_fits(length, 0)      # a prefill past the model's context: one line, not onnxruntime's
            ids = (text_ids * (length // len(text_ids) + 1))[:length]

            def prefill(lm, logits_from: int):
                start = time.perf_counter()
                logits, _ = lm._step(ids, lm._empty_past(), len(ids), logits_from)
                return (time.perf_counter() - start) * 1000.0, logits

            _, full = prefill(every_lm, 0)             # warm-up, and the rows to compare
            _, last = prefill(last_lm, len(ids) - 1)
            every, alone = [], []
            for _ in range(rounds):
                every.append(prefill(every_lm, 0)[0])
                alone.append(prefill(last_lm, len(ids) - 1)[0])
            ratios = [e / a for e, a in zip(every, alone)]
            rows.append({"threads": n, "prompt": length, "every_ms": statistics.median(every),
                         "last_ms": statistics.median(alone), "ratio": statistics.median(ratios),
                         "ratio_min": min(ratios), "ratio_max": max(ratios), "rows_back": int(last.shape[0]),
                         "max_abs_diff": float(np.abs(full[-1] - last[-1]).max())})
        del every_lm, last_lm
    return rows


def save_chart(results: dict[str, list[dict]], path):
    from bench._chart import save_ratio_chart

    return save_ratio_chart(path, results, "prompt", "prompt tokens", "prefill speed-up, last row only (median, min-max)",
                            "Prefill: LM head on the last position only vs every position")


def main(args: list[str]) -> int:
    from bench._args import bench_parser, check_context, variants_lengths_threads
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS

    parser = bench_parser("kllm bench logits_from")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int4,int4-q41")
    parser.add_argument("--prompts", default="16,107,300", help="prompt lengths in tokens (comma-separated)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args(args)
    names, prompts, threads = variants_lengths_threads(parser, opts, "prompts", VARIANTS)
    check_context(parser, opts.model, prompts, "--prompts")
    from tqdm import tqdm

    from edge.generator.measure import cpu_summary

    results = {}
    for name in tqdm(names, desc="logits_from", unit="variant"):
        plain = build_variant(VARIANTS[name], opts.model)
        sliced = with_logits_from(plain, cache_dir("bench") / "logits_from" / plain.name)
        results[name] = measure(plain, sliced, prompts, threads, opts.rounds)
    print(f"prefill ms, logits for every position vs the last alone ({opts.model}, {cpu_summary()}; median of "
          f"{opts.rounds} interleaved rounds, speed-up as the median of per-round ratios, min-max)")
    print("| variant | threads | prompt tokens | every row ms | last row ms | speed-up | max |logit diff|, last row |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        for r in rows:
            print(f"| {name} | {r['threads']} | {r['prompt']} | {r['every_ms']:.1f} | {r['last_ms']:.1f} | "
                  f"{r['ratio']:.2f}x ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {r['max_abs_diff']:.1e} |")
    print(f"chart {save_chart(results, cache_dir('bench') / 'logits_from.png')}")
    return 0
