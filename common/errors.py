"""The one error type the CLI turns into a single line on stderr and exit code 2.

    raise UserError(f"missing file: {path}")
"""
import argparse
import sys
from pathlib import Path


class UserError(Exception):
    """Bad input from the user (file, flag, column, competition). Message is one line."""

    exit_code = 2


class RowError(UserError):
    """A UserError about one row of the arrays a function was given (0-based `row`); a caller that
    knows the rows' ids says which id instead.

        raise RowError("logloss", 4, "holds a negative probability")   # "logloss: row 4 holds ..."
    """

    def __init__(self, where: str, row: int, what: str):
        super().__init__(f"{where}: row {row} {what}")
        self.where, self.row, self.what = where, row, what


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one UserError line and exit 2 (no usage block); the
    CLI's parsers and every benchmark's use it.

        parser = OneLineParser(prog="kllm bench edge")
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # a flag's prefix is an error, never that flag
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        if message.startswith("the following arguments are required"):
            unknown = self._unknown_flags()      # `--co x` for --comp: name the typo, not the missing flag
            if unknown:
                message = f"unrecognized arguments: {' '.join(unknown)}"
        raise UserError(f"{self.prog}: {message} (see --help)")

    def _unknown_flags(self) -> list[str]:
        given = getattr(self, "_given", [])
        given = given[:given.index("--")] if "--" in given else given
        return [a for a in given if a.startswith("-") and len(a) > 1 and " " not in a     # "-x y": a value to argparse
                and a.split("=", 1)[0] not in self._option_string_actions and not self._negative_number_matcher.match(a)]


def path_arg(value: str) -> Path:
    """argparse type for a file or folder flag: an empty value is refused (Path("") would be ".").

        parser.add_argument("--out", type=path_arg)
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("empty path")
    return Path(value)


def text_arg(value: str) -> str:
    """argparse type for a flag whose empty value would otherwise read as its default (--device "":
    the emulated Pi), so an empty value is refused.

        parser.add_argument("--device", type=text_arg)
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("empty value")
    return value


def seed_arg(value: str) -> int:
    """argparse type for --seed: an integer from 0 to 2**32 - 1 (what numpy's and torch's seeding take).

        parser.add_argument("--seed", type=seed_arg, default=42)
    """
    try:
        seed = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {value!r}: give a whole number") from None
    if not 0 <= seed < 2 ** 32:
        raise argparse.ArgumentTypeError(f"seed {seed} is out of range: give 0 to {2 ** 32 - 1}")
    return seed


def count_arg(flag: str):
    """argparse type for a flag that takes a whole number of at least 1; its messages name `flag`.

        parser.add_argument("--limit", type=count_arg("--limit"))
    """
    def parse(value: str) -> int:
        try:
            count = int(value)
        except ValueError:
            raise UserError(f"{flag} must be a whole number, got {value!r}") from None
        if count < 1:
            raise UserError(f"{flag} must be at least 1, got {count}")
        return count
    return parse
