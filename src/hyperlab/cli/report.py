"""`hyperlab report STUDY`: analyse a study from the store and write its report; prints the path."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file (selects the trials it plans), or a study name "
                                "(selects everything stored under it)."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable); selects that configuration's trials."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: WORKSPACE/reports/STUDY; use it for a read-only "
        "workspace)."),
) -> None:
    """Write WORKSPACE/reports/STUDY/index.html (one self-contained page), report.md and figures/, and
    print the page's path. A study still running is reported as far as it is done."""
    from hyperlab.api import select, write_frames_report

    frames = select(study, set_ or [], workspace)
    print(f"hyperlab: {frames.study['selection']}", file=sys.stderr)
    try:
        index = write_frames_report(frames, workspace, out)
    except OSError as exc:  # a read-only workspace, a full disk: say where else it can go
        raise UserError(f"{out or 'the workspace'}: cannot write the report there ({exc.strerror}); "
                        f"write it elsewhere with --out DIR") from exc
    typer.echo(str(index))
