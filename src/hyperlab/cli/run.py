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
) -> None:
    """Train the study's missing trials (reusing every stored one) and write its report.

    Ctrl-C stops after the current epoch (stored and checkpointed, exit 130); running the same
    command again resumes. Several `hyperlab run` on one workspace share the work.
    """
    from hyperlab.api import Study

    if quiet and jsonl:
        raise UserError("--quiet and --jsonl: choose one")
    loaded = Study.load(study, set_ or [])
    progress = "jsonl" if jsonl else "quiet" if quiet else "rich"
    summary = loaded.run(workspace, workers=workers, rerun=rerun, retry_failed=retry_failed, device=device,
                         threads=threads, progress=progress, report=not no_report,
                         vectorize=False if no_vectorize else None, data_root=data_root)
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
