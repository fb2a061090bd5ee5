"""`kllm bench edge [--comp SLUG] [--fast]`: the edge comparison table (size, batch-1 latency at
1 and 4 threads, held-out score) for PyTorch fp32, ONNX fp32 and ONNX int8, from one run (for a
port with no model, edge/writer: the host's and the device program's scores, latency, memory).

Runs the `make edge` pipeline without deploying; the teacher and the student come from the disk
cache when they were built before, so this mostly re-exports, re-quantizes and re-times.
"""
from __future__ import annotations


def main(args: list[str]) -> int:
    from bench._args import bench_parser
    from common.data import load_dataset
    from common.registry import get_competition
    from edge.classifier.distill import DistillConfig
    from edge.pipeline import EdgeConfig, fast_config, run_edge

    parser = bench_parser("kllm bench edge")
    parser.add_argument("--comp", default="detect-ai-text")
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    opts = parser.parse_args(args)
    competition = get_competition(opts.comp)
    config = fast_config(opts.seed) if opts.fast else EdgeConfig(distill=DistillConfig(seed=opts.seed))
    report = run_edge(competition, load_dataset(competition), config, skip_deploy=True, seed=opts.seed,
                      fast=opts.fast, log=lambda *_: None)
    print(f"edge benchmark: {opts.comp}, teacher {report.teacher}")
    print(report.table)
    print(report.summary + (f"; chart {report.files['png']}" if "png" in report.files else ""))
    return 0
