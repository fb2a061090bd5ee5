"""The one error type the CLI turns into a single line on stderr and exit code 2.

    raise UserError(f"missing file: {path}")
"""
import argparse


class UserError(Exception):
    """Bad input from the user (file, flag, column, competition). Message is one line."""

    exit_code = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one UserError line and exit 2 (no usage block); the
    CLI's parsers and every benchmark's use it.

        parser = OneLineParser(prog="kllm bench edge")
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # a flag's prefix is an error, never that flag
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UserError(f"{self.prog}: {message} (see --help)")
