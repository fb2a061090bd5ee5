"""The flag parser of every benchmark: a bad flag is one line on stderr and exit 2 (a UserError).

    parser = bench_parser("kllm bench edge")
    parser.add_argument("--fast", action="store_true")
    opts = parser.parse_args(args)

bench/ is imported by the CLI (`kllm bench NAME`), so it must not import `cli` back; both use
`common.errors.OneLineParser`.
"""
from __future__ import annotations

import argparse

from common.errors import OneLineParser


def bench_parser(prog: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=prog)


def variants_lengths_threads(parser: argparse.ArgumentParser, opts, lengths: str,
                             known) -> tuple[list[str], list[int], list[int]]:
    """(variant names, token lengths, thread counts) from the comma-separated --variants, --<lengths>
    and --threads of a per-variant runtime benchmark (kv_cache, logits_from); a bad value is a
    parser error. `known`: the variant names there are."""
    names = [n for n in opts.variants.split(",") if n]
    if not names or any(n not in known for n in names):
        parser.error(f"--variants names only {', '.join(known)}; got {opts.variants}")
    try:
        sizes = [int(c) for c in getattr(opts, lengths).split(",") if c]
        threads = [int(t) for t in opts.threads.split(",") if t]
    except ValueError:
        parser.error(f"--{lengths} and --threads take comma-separated integers")
    if opts.rounds < 1 or not sizes or not threads or min(sizes + threads) < 1:
        parser.error(f"--rounds, --{lengths} and --threads must be at least 1")
    return names, sizes, threads
