"""`hyperlab export STUDY --tensorboard DIR`: TensorBoard event files for every trial of a study."""

from __future__ import annotations

from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file, or the name of a study in the workspace."),
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
    from hyperlab.api import find_study
    from hyperlab.report.tensorboard import export_tensorboard
    from hyperlab.store import Store

    if tensorboard is None:
        raise UserError("export: choose a format: --tensorboard DIR")
    name, _ = find_study(study, set_ or [])
    with Store.open(workspace, create=False, readonly=True) as store:
        runs = export_tensorboard(store.frames(name), tensorboard)
    typer.echo(f"{len(runs)} TensorBoard runs written to {tensorboard}")
