"""`kllm edge --comp SLUG [--device user@host[:port]] [--skip-deploy] [--fast]` (behind `make edge`)

Distills the competition's teacher into a small student, exports it to ONNX (parity-checked),
quantizes it to int8, prints the comparison table, builds the device bundle and deploys it to
the named Pi over ssh, or to the local emulated aarch64 Pi when no device is named.

    python -m cli edge --comp detect-ai-text --fast --skip-deploy
"""
from __future__ import annotations

from pathlib import Path

from common.data import load_dataset
from common.registry import get_competition


def add_parser(subparsers):
    p = subparsers.add_parser("edge", help="distill, export, quantize, bundle and deploy to a Pi (or an emulated one)")
    p.add_argument("--comp", required=True, help="competition slug, e.g. detect-ai-text")
    p.add_argument("--device", default=None, metavar="USER@HOST[:PORT]", help="a Pi reachable over ssh (default: emulated Pi)")
    p.add_argument("--skip-deploy", action="store_true", help="stop after building the bundle")
    p.add_argument("--fast", action="store_true", help="small teacher and student for a quick check")
    p.add_argument("--data", type=Path, default=None, help="folder with the Kaggle files (default: data/<slug> or the sample)")
    p.add_argument("--seed", type=int, default=42, help="seed for every random step (recorded)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: build/edge/<slug>)")
    p.add_argument("--set", dest="options", action="append", default=[], metavar="KEY=VALUE",
                   help="teacher option passed to the competition's edge spec, e.g. --set members=tfidf_linear")
    p.set_defaults(func=run)


def run(args) -> int:
    from cli.commands.submit import parse_options
    from edge.classifier.distill import DistillConfig
    from edge.pipeline import EdgeConfig, fast_config, run_edge

    competition = get_competition(args.comp)
    data = load_dataset(competition, args.data)
    print(data.describe())
    config = fast_config(args.seed) if args.fast else EdgeConfig(distill=DistillConfig(seed=args.seed))
    config.out_dir = args.out
    report = run_edge(competition, data, config, device=args.device, skip_deploy=args.skip_deploy,
                      seed=args.seed, fast=args.fast, options=parse_options(args.options))
    print(f"teacher {report.scores['teacher']:.4f} vs int8 student {report.scores['onnx int8']:.4f} "
          f"(gap target met: {report.teacher_gap_met}); int8 is {report.int8_vs_pytorch_speedup_1t:.2f}x "
          f"PyTorch fp32 at batch 1, 1 thread; bundle {report.bundle['total_mb']} MB")
    print(f"report: {Path(report.files['csv']).parent / 'report.json'}")
    return 0
