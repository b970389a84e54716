"""`hyperlab datasets ...`: list, import and verify datasets (the data layer's commands)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from hyperlab.errors import UserError

app = typer.Typer(help="List, import and verify datasets.", no_args_is_help=True)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


@app.command("list")
def list_(
    data_root: Path | None = typer.Option(None, "--data-root", help="Folder with official files "
                                          "(default: $HYPERLAB_DATA)."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON (one object per dataset)."),
) -> None:
    """List the datasets: task, shapes, where each one is and whether it is verified."""
    from dataclasses import asdict

    from hyperlab.data import list_datasets

    rows = list_datasets(data_root)
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    # One line per dataset, then where it is on its own line: a path is wrapped (folded where it must
    # be), never cut, at any terminal width.
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=160)  # piped into a log: do not fold the paths into 80 columns
    width = max(len(row.name) for row in rows)
    for row in rows:
        sizes = "generated" if row.n_train is None else (
            f"{row.n_train:,} train / {row.n_test:,} test" if row.n_test else
            f"{row.n_train:,} (test split held out)")
        console.print(f"[bold]{escape(row.name.ljust(width))}[/]  {row.task:<14}  "
                      f"{_shape(row.input_shape):<8}  {sizes}", highlight=False)
        console.print(f"{' ' * width}  {escape(row.where)}  [dim]({escape(row.verified)})[/]",
                      overflow="fold", highlight=False)
    console.print("Also: npz:PATH (arrays in the Keras layout), folder:PATH (PATH/train/<class>/*.png).")


@app.command("import")
def import_(
    name: str = typer.Argument(..., help="cifar10, cifar100, mnist or fashion-mnist."),
    file: Path = typer.Argument(..., help="An .npz with x_train, y_train, x_test, y_test (Keras layout)."),
) -> None:
    """Check an npz (shapes, dtypes, published SHA-256s) and install it into the cache."""
    from hyperlab.data.install import import_npz

    path, meta = import_npz(name, file)
    typer.echo(f"installed {name} -> {path} ({meta['verified']})")


@app.command("verify")
def verify(
    name: str | None = typer.Argument(None, help="One cached dataset; default: all of them."),
) -> None:
    """Re-hash the cached datasets against the published (or recorded) SHA-256s."""
    from hyperlab.data import cache
    from hyperlab.data.install import verify_cache

    results = verify_cache(name)
    if not results:
        typer.echo(f"nothing cached in {cache.datasets_dir()}")
        return
    for result in results:
        typer.echo(f"{'ok' if result.ok else 'FAILED':6} {result.name:24} {result.message}  ({result.path})")
    failed = [r for r in results if not r.ok]
    if failed:
        raise UserError(f"{len(failed)} cached dataset(s) failed verification: "
                        + "; ".join(f"{r.name}: {r.message}" for r in failed)
                        + " (delete the file and load again, or re-import it)")
