"""`hyperlab datasets ...`: list, import and verify datasets (the data layer's commands)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hyperlab.errors import UserError

app = typer.Typer(help="List, import and verify datasets.", no_args_is_help=True)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


@app.command("list")
def list_(
    data_root: Path | None = typer.Option(None, "--data-root", help="Folder with official files "
                                          "(default: $HYPERLAB_DATA)."),
) -> None:
    """List the datasets: task, shapes, where each one is and whether it is verified."""
    from hyperlab.data import list_datasets

    table = Table(title="hyperlab datasets")
    for column in ("name", "task", "input", "train / test", "where", "verified"):
        table.add_column(column, overflow="fold")
    for row in list_datasets(data_root):
        sizes = "generated" if row.n_train is None else (
            f"{row.n_train:,} / {row.n_test:,}" if row.n_test else f"{row.n_train:,} (test split held out)")
        table.add_row(row.name, row.task, _shape(row.input_shape), sizes, row.where, row.verified)
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=160)  # piped into a log: do not fold the paths into 80 columns
    console.print(table)
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
