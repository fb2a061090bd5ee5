"""`kllm bench edge [--comp SLUG] [--fast] [--runs 3] [--full-length]`: the edge comparison table (size, batch-1
latency at 1 and 4 threads, held-out score) for PyTorch fp32, ONNX fp32 and every quantized
candidate (for a port with no model, edge/writer: the host's and the device program's scores,
latency, memory); the whole comparison --runs times (3; 1 with --fast), then each variant's speed-up over
ONNX fp32 and over PyTorch fp32 at 1 thread as the median of the runs' ratios (min-max).

Runs the `make edge` pipeline without deploying; the teacher and the student come from the disk
cache when they were built before, so this mostly re-exports, re-quantizes and re-times.
"""
from __future__ import annotations


def main(args: list[str]) -> int:
    from bench._args import bench_parser
    from common.data import load_dataset
    from common.errors import seed_arg
    from common.registry import get_competition
    from common.seeding import seed_everything
    from edge.config import edge_config
    from edge.pipeline import run_edge

    parser = bench_parser("kllm bench edge")
    parser.add_argument("--comp", default="detect-ai-text")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--seed", type=seed_arg, default=42)
    parser.add_argument("--runs", type=int, default=None,
                        help="repeat the comparison; ratios as medians with the min-max (default 3; --fast: 1)")
    parser.add_argument("--full-length", action="store_true",
                        help="time held-out texts joined to fill the student's max_length (Kaggle-length essays)")
    opts = parser.parse_args(args)
    opts.runs = (1 if opts.fast else 3) if opts.runs is None else opts.runs
    if opts.runs < 1:
        parser.error("--runs must be at least 1")
    competition = get_competition(opts.comp)
    config = edge_config(opts.seed, opts.fast)
    seed_everything(opts.seed)    # as make edge
    config.latency_full_length = opts.full_length
    reports = [run_edge(competition, load_dataset(competition), config, skip_deploy=True, seed=opts.seed,
                        fast=opts.fast, log=lambda *_: None) for _ in range(opts.runs)]
    report = reports[-1]
    print(f"edge benchmark: {opts.comp}, teacher {report.teacher}"
          + ("; timed on held-out texts joined to fill the student's max_length" if opts.full_length else ""))
    print(report.table)
    print(report.summary + (f"; chart {report.files['png']}" if "png" in report.files else ""))
    if opts.runs > 1 and "rows" in report.info:
        print(speedup_table([r.info["rows"] for r in reports]))
    return 0


def speedup_table(runs: list[list[dict]]) -> str:
    """Per variant: p50 latency at 1 thread over ONNX fp32's and PyTorch fp32's in the same run,
    the median of the runs with the min-max."""
    import statistics

    lines = [f"speed-up at batch 1, 1 thread, median of {len(runs)} runs (min-max):",
             "| variant | x ONNX fp32 | x PyTorch fp32 | score (last run) |", "|---|---|---|---|"]
    for i, row in enumerate(runs[-1]):
        cells = []
        for base in ("onnx fp32", "pytorch fp32"):
            ratios = [next(r for r in rows if r["variant"] == base)["p50_1t_ms"] / rows[i]["p50_1t_ms"] for rows in runs]
            cells.append(f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        lines.append(f"| {row['variant']} | {cells[0]} | {cells[1]} | {row['score']:.4f} |")
    return "\n".join(lines)
