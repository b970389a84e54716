"""Command-line interface: one thin subcommand per stage, over the Python API."""
