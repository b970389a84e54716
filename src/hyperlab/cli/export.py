"""`hyperlab export STUDY --tensorboard DIR | --mlflow URI`: a study's trials for TensorBoard or MLflow."""

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
    mlflow: str | None = typer.Option(
        None, "--mlflow", metavar="URI", help="MLflow tracking URI (e.g. sqlite:///mlflow.db or "
        "http://host:5000): one experiment per study, one run per trial; re-exporting updates."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
) -> None:
    """Export a study's per-epoch metrics and hyperparameters: for TensorBoard (HParams plugin;
    `tensorboard --logdir DIR` shows every trial, grouped by variant and seed) and/or to an MLflow
    tracking store."""
    from hyperlab.api import select
    from hyperlab.store import resolve_workspace

    if tensorboard is None and mlflow is None:
        raise UserError("export: choose a format: --tensorboard DIR or --mlflow URI")
    frames = select(study, set_ or [], workspace)
    print(f"hyperlab: {frames.study['selection']}", file=sys.stderr)
    if tensorboard is not None:
        from hyperlab.report.tensorboard import export_tensorboard

        runs = export_tensorboard(frames, tensorboard)
        typer.echo(f"{len(runs)} TensorBoard runs written to {tensorboard}")
    if mlflow is not None:
        from hyperlab.report.mlflow import export_mlflow

        name = frames.study["name"]
        report = resolve_workspace(workspace) / "reports" / name / "index.html"
        done = export_mlflow(frames, mlflow, report=report)
        typer.echo(f"MLflow experiment {name!r} (id {done.experiment_id}) at {mlflow}: "
                   f"{done.created} runs created, {done.updated} updated")
