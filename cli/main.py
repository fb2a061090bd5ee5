"""Entry point of the CLI. Each subcommand is one module in `cli/commands/`.

    python -m cli submit --comp science-exam
    python -m cli --help

A subcommand module defines `add_parser(subparsers)` (which sets `func=run` on its parser) and
`run(args) -> int`. Bad input raises `common.errors.UserError`; it is printed as one line on
stderr with exit code 2, never as a traceback (an OSError no command foresaw: one line, exit 1).
Ctrl-C (exit 130) and SIGTERM (`kill`, a job scheduler, `timeout`: exit 143) both unwind the
command, so its temporary folders and half-written files are removed, not left behind.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
import threading

from common.errors import OneLineParser, UserError
from common.paths import env_on


def build_parser() -> argparse.ArgumentParser:
    import cli.commands as commands

    parser = OneLineParser(prog="kllm", description="Kaggle LLM competitions: solve, submit, compare, ship to a Pi.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"cli.commands.{module.name}").add_parser(subparsers)
    _name_each_parser(parser)
    return parser


def _name_each_parser(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's parser as the default `_parser` of its own namespace: an argument no
    parser takes is then refused by the command's parser ("kllm score: ..."), not by "kllm"."""
    parser.set_defaults(_parser=parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _name_each_parser(sub)


class Terminated(BaseException):
    """SIGTERM, raised where the command was, so its `with` blocks and `finally`s run; a
    BaseException, as KeyboardInterrupt is, so no `except Exception` takes it for an error."""


def _raise_terminated(signum, frame):
    raise Terminated


def _close_progress_bars() -> None:
    """Close every open tqdm bar now, so that none is drawn again after the error line (an
    interrupted loop's bar is otherwise closed, and redrawn, when it is collected)."""
    std = sys.modules.get("tqdm.std")
    for bar in list(getattr(getattr(std, "tqdm", None), "_instances", ())):
        bar.close()


def _on_sigterm(handler):
    """Install `handler` for SIGTERM and return the one before (None off the main thread, where
    Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _tolerate_unencodable_output() -> None:
    """Print what stdout's or stderr's encoding cannot hold as escapes (`\\xe9`) rather than fail on
    it: under PYTHONIOENCODING=ascii a path with `é` or a score's `±` raised UnicodeEncodeError,
    mid-save in `kllm submit`."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):   # replaced by a test's capture, or closed
            pass


def main(argv: list[str] | None = None) -> int:
    _tolerate_unencodable_output()
    previous = _on_sigterm(_raise_terminated)
    try:
        return _main(argv)
    except Terminated:
        _close_progress_bars()
        print("error: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            _on_sigterm(previous)


def _main(argv: list[str] | None) -> int:
    try:
        import competitions  # noqa: F401  (registers every competition)
        from common.paths import check_repo_root, env_flag

        check_repo_root()
        env_flag("KLLM_ALLOW_HUB"), env_flag("KLLM_DEBUG")     # a typo in a switch: one line before any work

        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            args._parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        if not getattr(args, "func", None):
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except UserError as err:
        _close_progress_bars()
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        _close_progress_bars()
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # `kllm leaderboard | head`: the reader left; nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:   # a file system refusal no command checked for: still one line, no traceback
        if env_on("KLLM_DEBUG"):
            raise
        where = "".join(f"{sep}{name}" for sep, name in ((": ", err.filename), (" -> ", err.filename2)) if name)
        _close_progress_bars()
        print(f"error: {err.strerror or err or type(err).__name__}{where} (KLLM_DEBUG=1 shows where)", file=sys.stderr)
        return 1
