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
