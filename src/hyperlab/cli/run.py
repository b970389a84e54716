"""`hyperlab run STUDY`: train what the workspace does not have yet, then write the report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file (TOML); its `name` keys the results in the workspace."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study, e.g. --set train.epochs=5 "
        "(repeatable)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    workers: int = typer.Option(1, "--workers", help="Processes on this machine sharing the trials."),
    rerun: bool = typer.Option(False, "--rerun", help="Retrain every trial, even those already stored."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Retrain failed and diverged trials."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress; print only the report's path."),
    jsonl: bool = typer.Option(False, "--jsonl", help="One JSON object per event on stdout."),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda (overrides train.device)."),
    threads: int | None = typer.Option(None, "--threads", help="Torch CPU threads per trial process."),
    data_root: str | None = typer.Option(
        None, "--data-root", help="Folder with official dataset files (overrides data.root)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the report afterwards."),
    no_vectorize: bool = typer.Option(
        False, "--no-vectorize", help="Train one trial at a time instead of stacking compatible trials."),
    executor: str | None = typer.Option(
        None, "--executor", help="vectorized (default), local (one trial at a time) or ray (a Ray cluster: "
        "docs/distributed.md)."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="With --executor ray: the cluster (default: $RAY_ADDRESS, else a "
        "local Ray instance)."),
    cpus_per_trial: float | None = typer.Option(
        None, "--cpus-per-trial", help="With --executor ray: CPUs each trial's task reserves (default 1)."),
    gpus_per_trial: float | None = typer.Option(
        None, "--gpus-per-trial", help="With --executor ray: GPUs each trial's task reserves (default 1 "
        "with --device cuda, else 0)."),
) -> None:
    """Train the study's missing trials (reusing every stored one) and write its report.

    Ctrl-C stops after the current epoch (stored and checkpointed, exit 130); running the same
    command again resumes. Several `hyperlab run` on one workspace share the work.
    """
    from hyperlab.api import Study

    if quiet and jsonl:
        raise UserError("--quiet and --jsonl: choose one")
    ray_options = {"address": ray_address, "cpus_per_trial": cpus_per_trial, "gpus_per_trial": gpus_per_trial}
    ray_options = {k: v for k, v in ray_options.items() if v is not None}
    if ray_options and executor != "ray":
        flags = ", ".join("--" + k.replace("_", "-").replace("address", "ray-address") for k in ray_options)
        raise UserError(f"{flags}: only with --executor ray")
    loaded = Study.load(study, set_ or [])
    progress = "jsonl" if jsonl else "quiet" if quiet else "rich"
    summary = loaded.run(workspace, workers=workers, rerun=rerun, retry_failed=retry_failed, device=device,
                         threads=threads, progress=progress, report=not no_report,
                         vectorize=False if no_vectorize else None, data_root=data_root,
                         executor=executor, executor_options=ray_options or None)
    if summary.output_closed:
        # Nobody reads stdout any more: point it at /dev/null so the interpreter's final flush
        # does not fail, and say on stderr what happened.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        print(f"hyperlab: output closed; stopped, finished epochs are stored in {summary.workspace}. "
              f"Run the same command to resume.", file=sys.stderr)
    elif summary.interrupted:
        print(f"hyperlab: interrupted; finished epochs are stored in {summary.workspace}. "
              f"Run the same command to resume.", file=sys.stderr)
    elif summary.report_error:
        print(f"hyperlab: error: the report failed ({summary.report_error}); the results are stored in "
              f"{summary.workspace}", file=sys.stderr)
    elif summary.report is not None and not jsonl:
        typer.echo(f"report: {summary.report}" if not quiet else str(summary.report))
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)
