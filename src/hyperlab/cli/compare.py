"""`hyperlab compare STUDY_A STUDY_B`: the variants two studies share, B - A, paired or Welch."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    study_a: str = typer.Argument(..., help="The first study: a study file or a study's name."),
    study_b: str = typer.Argument(..., help="The second study (the difference is B - A)."),
    metric: str | None = typer.Option(
        None, "--metric", help="Final metric to compare (default: test_accuracy, else test_mse or "
        "test_loss)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    workspace_b: Path | None = typer.Option(
        None, "--workspace-b", help="Results folder of STUDY_B when it is another workspace."),
) -> None:
    """Compare two studies variant by variant: paired t-test by seed where 3 or more seeds finished
    in both, Welch's t-test otherwise; p-values Holm-adjusted. Reads the store only."""
    from rich.console import Console
    from rich.table import Table

    from hyperlab.analysis.compare import compare_studies
    from hyperlab.api import find_study
    from hyperlab.report.compare import COLUMNS, comparison_rows, summary_line
    from hyperlab.store import open_readonly

    name_a, _ = find_study(study_a)
    name_b, _ = find_study(study_b)
    with open_readonly(workspace) as store:
        frames_a = store.frames(name_a)
        if workspace_b is None:
            frames_b = store.frames(name_b)
    if workspace_b is not None:
        with open_readonly(workspace_b) as store:
            frames_b = store.frames(name_b)
    comparison = compare_studies(frames_a, frames_b, metric)
    console = Console()
    table = Table(title=f"{name_b} - {name_a}", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in comparison_rows(comparison):
        table.add_row(*(row[c] for c in COLUMNS))
    console.print(table)
    console.print(summary_line(comparison))
