"""`kllm bench NAME [args...]` runs one benchmark from the top-level `bench/` folder and prints
its table. `kllm bench` alone lists them.

    python -m cli bench retrieval
    make bench BENCH=edge
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil

from common.errors import UserError


def available() -> list[str]:
    try:
        import bench
    except ImportError:
        return []
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def add_parser(subparsers):
    p = subparsers.add_parser("bench", help="print a benchmark table (speed and memory as ratios)")
    p.add_argument("name", nargs="?", help="benchmark name; omit to list them")
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments passed to the benchmark")
    p.set_defaults(func=run)


def run(args) -> int:
    names = available()
    if not args.name:
        print("benchmarks: " + (", ".join(names) or "none"))
        return 0
    if args.name not in names:
        raise UserError(f"unknown benchmark {args.name!r}; known: {', '.join(names) or 'none'}")
    return int(importlib.import_module(f"bench.{args.name}").main(args.bench_args) or 0)
