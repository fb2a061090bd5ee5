"""The one command-line interface: `kllm <subcommand>` or `python -m cli <subcommand>`."""
