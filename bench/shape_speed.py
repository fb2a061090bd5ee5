"""`kllm bench shape_speed`: the compression study's speed columns on random weights of the model's
shape, at any thread counts, on a machine that needs nothing of the zoo but a config and tokenizer.

    make bench BENCH=shape_speed ARGS="--threads 1,2 --rounds 3"
    python -m cli bench shape_speed --model path/to/folder --threads 1,2,4,8,16 --report out.json
    make bench BENCH=shape_speed ARGS="--weights both"      # and the zoo's own exports, interleaved

Decode speed does not depend on the weights' values (onnxruntime's CPU kernels are dense), so the
variants are exported from edge/generator/grid_model.py's random model, whose weights lie on the
zoo's GGUF grids (the int4-q41 variants keep their shape); `--weights own` times the model's own
exports instead, and `--weights both` times both in one run, with each random-weight row's speed
over its own-weight twin's (median of the rounds' ratios): the check that the two agree. --model:
a zoo name or an HF folder whose config.json and tokenizer give the shape. Per variant and
thread count: decode tok/s (a 64-token greedy continuation) and prefill tok/s (a 300-token
prompt) in fresh processes, the variants' order flipped each round; the ratio to ONNX fp32 is
the median of the rounds' ratios (min-max); roofline: weight bytes a token x decode tok/s over
the read bandwidth at that thread count (numpy sums, measured each round). Writes a JSON report
(--report, default cache/bench/shape_speed[-own|-both].json) and a PNG of the ratios against
threads.
"""
from __future__ import annotations

import json
import os
import statistics

DEFAULT_VARIANTS = "fp32,int8,int4,int4-q41-fold"


OWN = " (own)"  # label suffix of a variant exported from the model's own weights


def measure(folders: dict, threads: list[int], rounds: int) -> dict:
    """{"rows": [...], "read_gb_s": {threads: [per round]}} from `rounds` rounds of fresh-process
    benches. folders: {label: exported folder}; labels are variant names, with OWN appended for the
    model's own weights ("fp32" and/or "fp32 (own)" among them: each label's ratio base)."""
    from tqdm import tqdm

    from edge.generator.measure import read_bandwidth_gb_s, runtime_bench
    from edge.generator.study import StudyConfig

    config = StudyConfig(threads=tuple(threads), rounds=rounds)
    runs: dict[str, list[dict]] = {label: [] for label in folders}
    read: dict[int, list[float]] = {n: [] for n in threads}
    with tqdm(total=rounds * len(folders), desc="shape_speed", unit="bench") as bar:
        for r in range(rounds):
            for label in (list(folders) if r % 2 == 0 else list(reversed(folders))):
                runs[label].append({row["threads"]: row for row in runtime_bench(folders[label], config)["rows"]})
                bar.update()
            for n in threads:
                read[n].append(read_bandwidth_gb_s(n))
    return {"rows": _rows(folders, runs, read, threads), "read_gb_s": {str(n): v for n, v in read.items()}}


def _rows(folders: dict, runs: dict, read: dict, threads: list[int]) -> list[dict]:
    from edge.generator.export import size_mb
    from edge.generator.measure import median_spread, weight_bytes_per_token

    def per_round(label, other, n):
        return median_spread([a[n]["decode_tok_s"][0] / b[n]["decode_tok_s"][0]
                              for a, b in zip(runs[label], runs[other])])

    rows = []
    for label, folder in folders.items():
        own = label.endswith(OWN)
        weight_bytes = weight_bytes_per_token(folder)
        for n in threads:
            decode = [run[n]["decode_tok_s"][0] for run in runs[label]]
            rows.append({"variant": label, "threads": n, "size_mb": round(size_mb(folder), 1),
                         "decode_tok_s": median_spread(decode), "ratio": per_round(label, "fp32" + OWN * own, n),
                         "grid_vs_own": per_round(label, label + OWN, n) if label + OWN in runs else None,
                         "prefill_tok_s": statistics.median(run[n]["prefill_tok_s"][0] for run in runs[label]),
                         "roofline": weight_bytes * statistics.median(decode) / (statistics.median(read[n]) * 1e9),
                         "peak_rss_mb": max(run[n]["peak_rss_mb"] for run in runs[label])})
    return rows


def format_table(rows: list[dict]) -> str:
    both = any(r["grid_vs_own"] for r in rows)
    lines = ["| variant | threads | size MB | decode tok/s | vs ONNX fp32 | prefill tok/s | roofline | peak MB |"
             + (" random / own weights |" if both else ""), "|---|---|---|---|---|---|---|---|" + "---|" * both]

    def spread(v):
        return f"{v[0]:.2f}x ({v[1]:.2f}-{v[2]:.2f})"

    for r in rows:
        d, check = r["decode_tok_s"], r["grid_vs_own"]
        lines.append(f"| {r['variant']} | {r['threads']} | {r['size_mb']:.0f} | {d[0]:.1f} ({d[1]:.1f}-{d[2]:.1f}) | "
                     f"{spread(r['ratio'])} | {r['prefill_tok_s']:.0f} | {r['roofline']:.0%} | {r['peak_rss_mb']:.0f} |"
                     + (f" {spread(check) if check else '-'} |" if both else ""))
    return "\n".join(lines)


def save_chart(rows: list[dict], path, title: str):
    from bench._chart import save_line_chart

    def draw(ax):
        colors = {}
        for label in dict.fromkeys(r["variant"] for r in rows):
            mine = [r for r in rows if r["variant"] == label]
            name = label.removesuffix(OWN)
            line = ax.errorbar([r["threads"] for r in mine], [r["ratio"][0] for r in mine], marker="o", capsize=3,
                               yerr=[[r["ratio"][0] - r["ratio"][1] for r in mine],
                                     [r["ratio"][2] - r["ratio"][0] for r in mine]],
                               color=colors.get(name), ls="--" if label.endswith(OWN) else "-", label=label)
            colors.setdefault(name, line[0].get_color())
        ax.axhline(4.0, color="grey", lw=0.8, ls=":", label="the int4 line (4x)")
        threads = sorted({r["threads"] for r in rows})
        ax.set_xscale("log", base=2)
        ax.set_xticks(threads, [str(n) for n in threads])

    return save_line_chart(path, draw, "threads", "decode tok/s vs ONNX fp32 (median, min-max)", title,
                           legend={"fontsize": 7, "loc": "lower left", "ncol": 2})


def main(args: list[str]) -> int:
    from bench._args import bench_parser, variants_lengths_threads
    from common.atomic import atomic_write_text, check_output_path
    from common.errors import path_arg, seed_arg
    from common.models import causal_lm_path
    from common.paths import cache_dir
    from edge.generator.export import build_variant
    from edge.generator.grid_model import grid_model
    from edge.generator.measure import cpu_summary
    from edge.generator.variants import VARIANTS

    parser = bench_parser("kllm bench shape_speed")
    parser.add_argument("--model", default="smollm2", help="zoo name or HF folder giving the shape and tokenizer")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=seed_arg, default=0)
    parser.add_argument("--weights", choices=["grid", "own", "both"], default="grid",
                        help="random weights on the grids, the model's own, or both in one run (to compare)")
    parser.add_argument("--report", type=path_arg,
                        help="JSON report path (default cache/bench/shape_speed[-own|-both].json)")
    opts = parser.parse_args(args)
    names, _, threads = variants_lengths_threads(parser, opts, None, VARIANTS)
    names = ["fp32"] + [n for n in names if n != "fp32"]
    stem = "shape_speed" + ("" if opts.weights == "grid" else f"-{opts.weights}")
    path = check_output_path(opts.report if opts.report else cache_dir("bench") / f"{stem}.json", example=f"{stem}.json")
    grid = str(grid_model(causal_lm_path(opts.model), opts.seed)) if opts.weights != "own" else None
    folders = {}
    for name in names:  # a variant's two exports side by side, so a round times them close together
        if grid:
            folders[name] = build_variant(VARIANTS[name], grid)
        if opts.weights != "grid":
            folders[name + OWN] = build_variant(VARIANTS[name], opts.model)
    result = measure(folders, threads, opts.rounds)
    summary = cpu_summary()
    cpu = f"{summary}, {os.cpu_count()} logical CPUs"
    weights = {"grid": f"random weights of {opts.model}'s shape (seed {opts.seed})", "own": f"{opts.model}'s own weights",
               "both": f"random weights of {opts.model}'s shape (seed {opts.seed}) and its own (rows marked{OWN})"}[opts.weights]
    print(f"decode and prefill on {weights}, fresh processes, "
          f"{opts.rounds} rounds; medians (min-max); {cpu}")
    print(format_table(result["rows"]))
    report = {"model": str(opts.model), "weights": opts.weights, "seed": opts.seed, "rounds": opts.rounds, "cpu": cpu, **result}
    atomic_write_text(path, json.dumps(report, indent=1))
    title = f"Decode speed-up by threads, {opts.weights} weights\n{summary.split(' (')[0]}, {os.cpu_count()} CPUs"
    chart = path.with_suffix(".png" if path.suffix.lower() != ".png" else ".chart.png")
    print(f"report {path}; chart {save_chart(result['rows'], chart, title)}")
    return 0
