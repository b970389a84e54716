"""`hyperlab export STUDY --tensorboard DIR`: TensorBoard event files for every trial of a study."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file (selects the trials it plans), or a study name "
                                "(selects everything stored under it)."),
    tensorboard: Path | None = typer.Option(
        None, "--tensorboard", metavar="DIR", help="Write TensorBoard runs here (one folder per trial)."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
) -> None:
    """Export a study's per-epoch scalars and hyperparameters (HParams plugin) for TensorBoard:
    `tensorboard --logdir DIR` then shows every trial, grouped by variant and seed."""
    from hyperlab.api import select
    from hyperlab.report.tensorboard import export_tensorboard

    if tensorboard is None:
        raise UserError("export: choose a format: --tensorboard DIR")
    frames = select(study, set_ or [], workspace)
    print(f"hyperlab: {frames.study['selection']}", file=sys.stderr)
    runs = export_tensorboard(frames, tensorboard)
    typer.echo(f"{len(runs)} TensorBoard runs written to {tensorboard}")
