"""`kllm bench NAME [args...]` runs one benchmark from the top-level `bench/` folder and prints
its table. `kllm bench` alone lists them.

    python -m cli bench retrieval
    make bench BENCH=edge

A bench writes its JSON and PNG under fixed names in cache/bench/; after each run a copy of what
it wrote there goes to cache/bench/history/NAME-<UTC time>/, so the run a README table quotes
survives the next one.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

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
    if args.name is None:
        print("benchmarks: " + (", ".join(names) or "none"))
        return 0
    if args.name not in names:
        raise UserError(f"unknown benchmark {args.name!r}; known: {', '.join(names) or 'none'}")
    started = time.time()
    from edge.runtime.causal_lm import InputError

    try:
        code = int(importlib.import_module(f"bench.{args.name}").main(args.bench_args) or 0)
    except InputError as err:     # the runtime's own refusal (a prompt past the model's context, ...)
        raise UserError(f"bench {args.name}: {err}") from None
    kept = keep_results(args.name, started)
    if kept is not None:
        print(f"kept: a copy of this run's tables and charts in {kept} (the next run replaces the ones above)")
    return code


KEPT_SUFFIXES = (".json", ".png", ".md", ".csv", ".txt")
KEPT_MAX_BYTES = 5 << 20        # results, not the exported models some benches cache beside them


def keep_results(name: str, since: float) -> Path | None:
    """Copy the result files a bench wrote under cache/bench/ since `since` into
    cache/bench/history/NAME-<UTC time>/, so a later run does not erase the one a table quotes."""
    from common.paths import cache_dir

    root = cache_dir("bench")
    history = root / "history"
    written = [p for p in root.rglob("*") if p.is_file() and not p.is_relative_to(history)
               and p.suffix in KEPT_SUFFIXES and p.stat().st_mtime >= since and p.stat().st_size <= KEPT_MAX_BYTES
               and not (p.parent / "VARIANT.json").exists()]     # a model folder's configs: not results
    if not written:
        return None
    folder = history / f"{name}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"
    for path in written:
        target = folder / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return folder
