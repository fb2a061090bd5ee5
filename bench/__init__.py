"""Benchmarks: each module has `main(args: list[str]) -> int` and prints a table (`make bench BENCH=name`)."""
