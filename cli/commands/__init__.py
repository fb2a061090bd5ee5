"""Subcommands of the CLI, one module each, discovered by `cli.main.build_parser`."""
