"""`hyperlab report STUDY`: analyse a study from the store and write its report; prints the path."""

from __future__ import annotations

from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file, or the name of a study in the workspace."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: WORKSPACE/reports/STUDY; use it for a read-only "
        "workspace)."),
) -> None:
    """Write WORKSPACE/reports/STUDY/index.html (one self-contained page), report.md and figures/, and
    print the page's path. A study still running is reported as far as it is done."""
    from hyperlab.analysis import analyze
    from hyperlab.api import find_study
    from hyperlab.report import write_report
    from hyperlab.store import Store

    name, _ = find_study(study, set_ or [])
    with Store.open(workspace, create=False, readonly=True) as store:
        frames = store.frames(name)
        target = out or store.workspace / "reports" / name
        try:
            index = write_report(analyze(frames), target, artifacts_dir=store.artifacts_dir)
        except OSError as exc:  # a read-only workspace, a full disk: say where else it can go
            raise UserError(f"{target}: cannot write the report there ({exc.strerror}); "
                            f"write it elsewhere with --out DIR") from exc
    typer.echo(str(index))
