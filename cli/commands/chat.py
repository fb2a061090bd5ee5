"""`kllm chat [--variant NAME] [--device user@host | --emulated] [--prompt TEXT]` (behind `make chat`):
chat with one of the compression study's causal LM variants, on this machine or on a Pi.

    python -m cli chat                                      # int4-q41-fold here; one question a line
    python -m cli chat --variant fp32 --prompt "What is the capital of France?"
    python -m cli chat --system "You answer in one short sentence."   # instead of the template's own
    python -m cli chat --no-repeat-ngram 4                  # greedy, but never a 4-token run twice in an answer
    python -m cli chat --temperature 0.7 --top-p 0.9 --repetition-penalty 1.2 --seed 1   # drawn, not greedy
    python -m cli chat --device pi@raspberrypi.local --stats   # copied to the Pi once, answered there, with speeds
    echo "Name a planet." | python -m cli chat --emulated   # the emulated Pi (qemu: slow)

The variant is exported (or read from the cache) as the study does, with its chat turn
(edge/generator/chat.py), and answered by the device runtime (edge/runtime/generate.py --chat):
greedy (or drawn: --temperature, --top-k, --top-p, --seed; either with --repetition-penalty or
--no-repeat-ngram), one turn per question (--history: each after the questions and answers before
it); answers stream as they are decoded. Bad input (unknown variant, bad flag, unreachable device)
is one line and exit 2.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common.errors import UserError, seed_arg, text_arg

DEFAULT_VARIANT = "int4-q41-fold"


def add_parser(subparsers):
    p = subparsers.add_parser("chat", help="chat with a compressed causal LM variant, here or on a Pi")
    p.add_argument("--variant", default=DEFAULT_VARIANT,
                   help=f"one of the study's variants (default {DEFAULT_VARIANT}: int4, intact)")
    p.add_argument("--model", default="smollm2", help="model zoo name or local folder (default smollm2)")
    p.add_argument("--prompt", help="one question; without it, one question a line from stdin")
    p.add_argument("--max-new-tokens", type=int, default=256, help="most tokens an answer may have (256)")
    p.add_argument("--threads", type=int, default=None,
                   help="onnxruntime threads (default: every core here, 4 on a device)")
    p.add_argument("--json", action="store_true", help="one JSON line an answer (prompt, tokens, text)")
    p.add_argument("--stats", action="store_true",
                   help="after each answer, its tokens, prefill time and decode tok/s on stderr")
    p.add_argument("--system", help="a system message of one's own instead of the template's default")
    p.add_argument("--history", action="store_true",
                   help="answer each question after the questions and answers before it (stdin only)")
    p.add_argument("--temperature", type=float, default=0.0, help="above 0: draw each token (default 0: greedy)")
    p.add_argument("--top-k", type=int, default=0, help="draw among the k likeliest tokens only (default 0: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="draw within the top-p probability mass (default 1)")
    p.add_argument("--repetition-penalty", type=float, default=1.0,
                   help="above 1: penalize tokens already in the conversation (CTRL's; default 1: none)")
    p.add_argument("--seed", type=seed_arg, default=0, help="of the draws: the same seed, the same answers (default 0)")
    p.add_argument("--no-repeat-ngram", type=int, default=0, metavar="N",
                   help="never repeat a run of N tokens already in the answer (default 0: no ban)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--device", type=text_arg, default=None, metavar="USER@HOST[:PORT]", help="a Pi reachable over ssh")
    where.add_argument("--emulated", action="store_true", help="the emulated Pi (qemu-user; correct, slow)")
    p.add_argument("--root", type=text_arg, default=None, help="the device folder (default: kllm-edge in the login's home, or "
                                                 "the emulated Pi's)")
    p.set_defaults(func=run)


def chat_variants() -> list[str]:
    """The variants `kllm chat` can build: the study's, except those trained or smoothed on calibration text."""
    from edge.generator.variants import VARIANTS

    return list(VARIANTS)


def runtime_args(args, threads: int) -> list[str]:
    out = ["--max-new-tokens", str(args.max_new_tokens), "--threads", str(threads)]
    out += [f"--prompt={args.prompt}"] if args.prompt is not None else []    # one word: a value may start with "-"
    out += [f"--system={args.system}"] if args.system is not None else []
    out += ["--temperature", repr(args.temperature), "--top-k", str(args.top_k), "--top-p", repr(args.top_p),
            "--repetition-penalty", repr(args.repetition_penalty), "--seed", str(args.seed),
            "--no-repeat-ngram", str(args.no_repeat_ngram)]
    flags = [flag for flag, on in (("--json", args.json), ("--history", args.history), ("--stats", args.stats)) if on]
    return out + flags


def run(args) -> int:
    from common.threads import default_threads
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS
    from edge.runtime.lm_sampling import Sampler
    from edge.runtime.records import threads_problem

    names = chat_variants()
    if args.variant not in names:
        raise UserError(f"no chat variant {args.variant!r}; one of {', '.join(names)}")
    if args.max_new_tokens < 1 or (args.threads is not None and args.threads < 1):
        raise UserError("--max-new-tokens and --threads must be at least 1")
    if args.prompt is not None and not args.prompt.strip():
        raise UserError("--prompt is empty")
    if args.system is not None and not args.system.strip():
        raise UserError("--system is blank: give a system message, or leave the flag out for the template's")
    if args.history and args.prompt is not None:
        raise UserError("--history goes with questions on stdin, not --prompt")
    if args.prompt is None and sys.stdin is None:      # started with <&-: before any model is built
        raise UserError("stdin is closed: give questions one a line on stdin, or PROMPT=... (--prompt)")
    if args.root is not None and not (args.device or args.emulated):
        raise UserError("--root names a device folder: give it with --device or --emulated")
    try:
        Sampler(args.temperature, args.top_k, args.top_p, args.repetition_penalty, args.seed, args.no_repeat_ngram)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.device:                 # a bad user@host or root is one line before the model is built
        from edge.deploy.lifecycle import device_root
        from edge.deploy.ssh import parse_target

        parse_target(args.device)
        device_root(args.device, args.root)
    log = (lambda *a, **k: print(*a, file=sys.stderr, **k))
    if not (args.device or args.emulated):
        from edge.generator.device_study import RUNTIME

        problem = threads_problem([args.threads or 1], os.cpu_count() or 1)
        if problem:                 # the runtime's own check, before the model is built
            raise UserError(problem)
        folder = build_variant(VARIANTS[args.variant], args.model, log=log)

        argv = [sys.executable, str(RUNTIME), "--model", str(folder), "--chat",
                *runtime_args(args, args.threads or default_threads())]
        try:
            return subprocess.run(argv).returncode
        except KeyboardInterrupt:   # the runtime got the Ctrl-C too and said "interrupted" itself
            return 130
    from edge.deploy.lifecycle import check_device_threads, open_device
    from edge.generator.chat import chat_on_device

    with open_device(args.device, args.root, log=log) as (device, root):   # a device that does not answer: one line, before the build
        check_device_threads(device, [args.threads or 4])
        folder = build_variant(VARIANTS[args.variant], args.model, log=log)
        return chat_on_device(device, root, Path(folder), runtime_args(args, args.threads or 4), log=log)
