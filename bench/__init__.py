"""Benchmarks: each module has `main(args: list[str]) -> int` and prints a table (`make bench BENCH=name`).

    python -m cli bench            # lists them
    python -m cli bench retrieval  # runs bench/retrieval.py

A module whose name starts with "_" is a helper, not a benchmark (`_args.py`: the flag parser).
bench/ sits beside the CLI and below it: it may import common/ and edge/, never cli/.
"""
