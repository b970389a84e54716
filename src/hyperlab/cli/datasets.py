"""`hyperlab datasets ...`: list, import and verify datasets (owned by the data layer)."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, import and verify datasets.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the known datasets."""
    typer.echo("digits")
