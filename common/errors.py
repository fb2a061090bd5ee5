"""The one error type the CLI turns into a single line on stderr and exit code 2.

    raise UserError(f"missing file: {path}")
"""


class UserError(Exception):
    """Bad input from the user (file, flag, column, competition). Message is one line."""

    exit_code = 2
