"""The flag parser of every benchmark: a bad flag is one line on stderr and exit 2 (a UserError).

    parser = bench_parser("kllm bench edge")
    parser.add_argument("--fast", action="store_true")
    opts = parser.parse_args(args)

bench/ is imported by the CLI (`kllm bench NAME`), so it must not import `cli` back; both use
`common.errors.OneLineParser`.
"""
from __future__ import annotations

import argparse
import os

from common.errors import OneLineParser, text_arg
from common.threads import max_threads


MAX_THREADS = max_threads()   # more only oversubscribe (common/threads.py); a Pi 5 has 4 cores


def check_threads(parser: argparse.ArgumentParser, threads) -> None:
    """A parser error when a thread count passes MAX_THREADS."""
    if max(threads, default=0) > MAX_THREADS:
        parser.error(f"--threads at most {MAX_THREADS} (this machine has {os.cpu_count()} cores), got {max(threads)}")


def check_context(parser: argparse.ArgumentParser, model: str, lengths: list[int], flag: str,
                  new_tokens: int = 0) -> None:
    """A parser error when a length of `flag` (with `new_tokens` generated after it) passes the
    model's context; an unknown model is a UserError. Both before any export or progress bar.

        check_context(parser, "smollm2", [16, 300], "--contexts", new_tokens=32)
    """
    import json

    from common.models import causal_lm_path

    context = int(json.loads((causal_lm_path(model) / "config.json").read_text(encoding="utf-8"))
                  .get("max_position_embeddings") or 0)
    over = [n for n in lengths if context and n + new_tokens > context]
    if over:
        parser.error(f"{flag} {over[0]}" + (f" (and {new_tokens} new tokens)" if new_tokens else "")
                     + f" passes {model}'s {context}-token context")


def note_short_text(windows: list[list[int]], asked: int, flag: str) -> None:
    """Prints a note when the token windows hold fewer tokens than `flag` asked for (the texts end)."""
    got = sum(map(len, windows))
    if got < asked:
        print(f"note: {flag} {asked}: the texts hold {got} tokens in windows, so {got} are used")


def bench_parser(prog: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=prog)


def variant_names(parser: argparse.ArgumentParser, text: str, known, first: str | None = None) -> list[str]:
    """The comma-separated names of --variants (a name not in `known` is a parser error), with
    `first` (if given) at the front, added when missing: the variant every row is compared with.

        names = variant_names(parser, opts.variants, VARIANTS, first="fp32")
    """
    names = [n for n in text.split(",") if n]
    if not names or any(n not in known for n in names):
        parser.error(f"--variants names only {', '.join(known)}; got {text}")
    return names if first is None else [first] + [n for n in names if n != first]


def variants_lengths_threads(parser: argparse.ArgumentParser, opts, lengths: str | None,
                             known) -> tuple[list[str], list[int], list[int]]:
    """(variant names, token lengths, thread counts) from the comma-separated --variants, --<lengths>
    and --threads of a per-variant runtime benchmark (kv_cache, logits_from; runtime_ab has no
    lengths: None, and gets []); a bad value is a parser error. `known`: the variant names there are."""
    names = variant_names(parser, opts.variants, known)
    flags = f"--{lengths} and --threads" if lengths else "--threads"
    try:
        sizes = [int(c) for c in getattr(opts, lengths).split(",") if c] if lengths else []
        threads = [int(t) for t in opts.threads.split(",") if t]
    except ValueError:
        parser.error(f"{flags} take comma-separated integers")
    if opts.rounds < 1 or (lengths and not sizes) or not threads or min(sizes + threads) < 1:
        parser.error(f"--rounds, {flags} must be at least 1")
    check_threads(parser, threads)
    return names, sizes, threads


def add_device_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """The flags of a benchmark run on the device itself (quant_device, edge_device): --device,
    --root, --threads, --rounds, --speed/--no-speed, --no-quality. `what`: what --speed times."""
    parser.add_argument("--device", type=text_arg, help="user@host[:port] of a Pi over ssh (default: the emulated Pi)")
    parser.add_argument("--root", type=text_arg,
                        help="device folder (default: kllm-edge on a Pi, cache/emulated-pi/device)")
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--speed", action="store_true", default=None, help=f"time the {what} (default: on a Pi)")
    parser.add_argument("--no-speed", dest="speed", action="store_false")
    parser.add_argument("--no-quality", dest="quality", action="store_false", default=True)


def device_threads(parser: argparse.ArgumentParser, opts) -> tuple[int, ...]:
    """The thread counts of add_device_flags' --threads; also settles --speed (on a Pi by default,
    off on the emulated one, whose timings say nothing about a Pi). A bad value is a parser error."""
    try:
        threads = tuple(int(t) for t in opts.threads.split(",") if t)
    except ValueError:
        parser.error("--threads takes comma-separated integers")
    if not threads or min(threads) < 1 or opts.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")
    check_threads(parser, threads)
    if opts.speed is None:
        opts.speed = bool(opts.device)
    if not (opts.speed or opts.quality):
        parser.error("--no-speed and --no-quality leave nothing to measure")
    return threads


def device_verdict(ok: bool, emulated: bool) -> str:
    """How a device benchmark's target line ends: qemu's timings never judge a target."""
    return "not judged (emulated: qemu's timings say nothing about a Pi)" if emulated else ("met" if ok else "not met")
