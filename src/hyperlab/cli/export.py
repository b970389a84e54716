"""`hyperlab export STUDY --tensorboard DIR | --mlflow URI`: a study's trials for TensorBoard or MLflow."""

from __future__ import annotations

from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file, or the name of a study in the workspace."),
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
    `tensorboard --logdir DIR` shows every trial) and/or to an MLflow tracking store."""
    from hyperlab.api import find_study
    from hyperlab.store import open_readonly

    if tensorboard is None and mlflow is None:
        raise UserError("export: choose a format: --tensorboard DIR or --mlflow URI")
    name, _ = find_study(study, set_ or [])
    with open_readonly(workspace) as store:
        frames = store.frames(name)
        report = store.workspace / "reports" / name / "index.html"
    if tensorboard is not None:
        from hyperlab.report.tensorboard import export_tensorboard

        runs = export_tensorboard(frames, tensorboard)
        typer.echo(f"{len(runs)} TensorBoard runs written to {tensorboard}")
    if mlflow is not None:
        from hyperlab.report.mlflow import export_mlflow

        done = export_mlflow(frames, mlflow, report=report)
        typer.echo(f"MLflow experiment {name!r} (id {done.experiment_id}) at {mlflow}: "
                   f"{done.created} runs created, {done.updated} updated")
