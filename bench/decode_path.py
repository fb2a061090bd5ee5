"""`kllm bench decode_path`: do the study's teacher-forced numbers hold for generation? The study
feeds each held-out window in one forward pass (a prefill: every MatMul sees T rows); generation
feeds one token a step through the KV cache (one row). A quantized MatMul may take another kernel
for one row than for many, and round differently, so this measures each variant both ways on the
study's held-out windows.

    make bench BENCH=decode_path
    python -m cli bench decode_path --variants fp32,int8,int4-q41-fold,int4 --eval-tokens 20480 --threads 2
    python -m cli bench decode_path --variants fp32,int8-dynamic,int8-dynamic-smooth   # calibrated ones too

Per variant: perplexity and next-token agreement with fp32 in one pass (the study's measurement)
and one token a step (each against fp32's own way), the share of positions where the variant's
two ways pick the same argmax, and the largest difference in a token's NLL between them. Both
ways are cached (edge/generator/quality.py), so a rerun costs nothing; one token a step takes
about 24 ms a token for fp32 and 6-9 ms for the int4 and int8 variants on a 2-core x86. Table
and results in cache/bench/decode_path.json, chart decode_path.png beside it.
"""
from __future__ import annotations

import json

import numpy as np

MIN_EVAL_TOKENS = 16   # a perplexity over fewer tokens means nothing (and 1 leaves no window)


def compare_ways(prefill: dict[str, dict], steps: dict[str, dict]) -> list[dict]:
    """prefill, steps: {variant: {"nll", "argmax"}} with fp32 among them -> a row per variant."""
    from edge.generator.quality import compare

    rows = []
    for name in prefill:
        one, many = compare(steps[name], steps["fp32"]), compare(prefill[name], prefill["fp32"])
        rows.append({"variant": name, "tokens": many["tokens"],
                     "prefill": {"perplexity": many["perplexity"], "agreement": many["agreement"]},
                     "steps": {"perplexity": one["perplexity"], "agreement": one["agreement"]},
                     "self_agreement": float((steps[name]["argmax"] == prefill[name]["argmax"]).mean()),
                     "max_nll_diff": float(np.abs(steps[name]["nll"] - prefill[name]["nll"]).max())})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| variant | perplexity, one pass | one token a step | agreement with fp32, one pass | one token a step "
             "| same argmax both ways | largest NLL difference |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['prefill']['perplexity']:.2f} | {r['steps']['perplexity']:.2f} | "
                     f"{r['prefill']['agreement']:.3f} | {r['steps']['agreement']:.3f} | {r['self_agreement']:.3f} | "
                     f"{r['max_nll_diff']:.2g} |")
    return "\n".join(lines)


def save_chart(rows: list[dict], path):
    from bench._chart import OUTSIDE, save_line_chart

    lowest = min(min(r["self_agreement"], r["prefill"]["agreement"], r["steps"]["agreement"]) for r in rows)

    def draw(ax):
        x = np.arange(len(rows))
        for offset, (key, label) in zip((-0.27, 0.0, 0.27), (("prefill", "agreement with fp32, one pass"),
                                                             ("steps", "agreement with fp32, one token a step"),
                                                             ("self", "same argmax both ways"))):
            values = [r["self_agreement"] if key == "self" else r[key]["agreement"] for r in rows]
            ax.bar(x + offset, values, width=0.27, label=label)
        ax.set_xticks(x, [r["variant"] for r in rows])
        ax.set_ylim(min(0.5, lowest - 0.05), 1.01)

    return save_line_chart(path, draw, "variant", "share of held-out tokens",
                           "Teacher forcing in one pass against one token a step", figsize=(9.5, 4), legend=OUTSIDE)


def main(args: list[str]) -> int:
    from tqdm import tqdm

    from bench._args import bench_parser, check_threads, note_short_text, variant_names
    from bench.quant import held_out_texts, named_folders
    from common.atomic import atomic_write_text
    from common.paths import cache_dir
    from edge.generator.calibrate import token_windows
    from edge.generator.measure import cpu_summary
    from edge.generator.quality import teacher_forced
    from edge.generator.variants import SHIPPABLE
    from edge.runtime.causal_lm import CausalLM

    parser = bench_parser("kllm bench decode_path")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int8,int4-q41-fold,int4")
    parser.add_argument("--eval-tokens", type=int, default=20480)
    parser.add_argument("--threads", type=int, default=2)
    opts = parser.parse_args(args)
    names = variant_names(parser, opts.variants, SHIPPABLE, first="fp32")
    if opts.threads < 1 or opts.eval_tokens < MIN_EVAL_TOKENS:
        parser.error(f"--threads must be at least 1 and --eval-tokens at least {MIN_EVAL_TOKENS}")
    check_threads(parser, [opts.threads])
    held_out = held_out_texts()
    folders = named_folders(names, opts.model, held_out)
    windows = token_windows(CausalLM(folders["fp32"]).encode, held_out, opts.eval_tokens)
    note_short_text(windows, opts.eval_tokens, "--eval-tokens")
    prefill, steps = {}, {}
    for name in tqdm(names, desc="decode_path", unit="variant"):
        folder = folders[name]
        prefill[name] = teacher_forced(folder, windows, threads=opts.threads)
        steps[name] = teacher_forced(folder, windows, threads=opts.threads, steps=True)
    rows = compare_ways(prefill, steps)
    print(f"teacher forcing on {rows[0]['tokens']} held-out tokens ({len(windows)} windows of the study's texts, "
          f"{opts.model}, {opts.threads} threads, {cpu_summary()}): each window in one pass, and one token a step")
    print(format_table(rows))
    out = cache_dir("bench")
    atomic_write_text(out / "decode_path.json", json.dumps({"rows": rows, "eval_tokens": opts.eval_tokens}, indent=1))
    print(f"results {out / 'decode_path.json'}")
    print(f"chart {save_chart(rows, out / 'decode_path.png')}")
    return 0
