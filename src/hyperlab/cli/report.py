"""`hyperlab report STUDY`: analyse a study from the store and write its report; prints the path."""

from __future__ import annotations

from pathlib import Path

import typer


def command(
    study: str = typer.Argument(..., help="Study file, or the name of a study in the workspace."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
) -> None:
    """Write WORKSPACE/reports/STUDY/index.html (one self-contained page), report.md and figures/, and
    print the page's path. A study still running is reported as far as it is done."""
    from hyperlab.analysis import analyze
    from hyperlab.api import find_study
    from hyperlab.report import write_report
    from hyperlab.store import Store

    name, _ = find_study(study, set_ or [])
    with Store.open(workspace, create=False) as store:
        frames = store.frames(name)
        index = write_report(analyze(frames), store.workspace / "reports" / name,
                             artifacts_dir=store.artifacts_dir)
    typer.echo(str(index))
