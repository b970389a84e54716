"""`hyperlab studies`: the studies a workspace holds; `hyperlab studies rm NAME` forgets one."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hyperlab.errors import UserError

app = typer.Typer(help="List the studies of a workspace (`studies rm NAME` removes one).",
                  invoke_without_command=True)

_WORKSPACE_HELP = "Results folder (default: ./hyperlab-runs)."


@app.callback()
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON (one object per study)."),
    workspace: Path | None = typer.Option(None, "--workspace", envvar="HYPERLAB_WORKSPACE",
                                          help=_WORKSPACE_HELP),
) -> None:
    """List the studies of a workspace: trials finished of planned, last update, description."""
    if ctx.invoked_subcommand is not None:
        return
    from hyperlab.store import Store

    with Store.open(workspace, create=False, readonly=True) as store:
        rows = store.study_summaries()
        where = store.workspace
    for row in rows:
        for key in ("created", "updated"):
            row[key] = datetime.fromtimestamp(row[key], UTC).isoformat(timespec="seconds")
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(f"no studies in {where}")
        return
    table = Table(title=f"studies in {escape(str(where))}", title_justify="left")
    for column, justify in (("study", "left"), ("design", "left"), ("finished", "right"),
                            ("updated (UTC)", "left"), ("description", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(escape(row["name"]), row["design"], f"{row['finished']}/{row['trials']}",
                      row["updated"].replace("T", " ").removesuffix("+00:00"), escape(row["description"]))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@app.command("rm")
def remove(
    name: str = typer.Argument(..., help="The study's name (`hyperlab studies` lists them)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    force: bool = typer.Option(False, "--force", help="Remove it even while a run trains it (that run "
                               "then ends with exit 2, storing nothing more)."),
    workspace: Path | None = typer.Option(None, "--workspace", envvar="HYPERLAB_WORKSPACE",
                                          help=_WORKSPACE_HELP),
) -> None:
    """Remove a study from the workspace: its rows, the trials no other study shares (with their
    checkpoints), and its reports/ and results/ folders. Asks first unless --yes. A study that a run
    is training is refused unless --force."""
    from hyperlab.store import Store

    with Store.open(workspace, create=False) as store:
        summary = next((r for r in store.study_summaries() if r["name"] == name), None)
        if summary is None:
            raise UserError(f"{store.workspace}: no study named {name!r} (known: "
                            f"{', '.join(store.study_names()) or 'none'})")
        if not yes:
            if not sys.stdin.isatty():
                raise UserError(f"studies rm {name}: asks for confirmation on a terminal; pass --yes "
                                "to remove without asking")
            # "n" (or Enter) keeps the study and exits 0: an answer, not an error; Ctrl-C is 130
            question = (f"Remove study {name!r} ({summary['trials']} trials, {summary['finished']} "
                        f"finished) and its artifacts from {store.workspace}?")
            if not typer.confirm(question):
                typer.echo(f"kept study {name!r}: nothing removed")
                return
        keys = store.remove_study(name, force=force)
        folders = [store.trial_dir(key) for key in keys]
        folders += [store.workspace / "reports" / name, store.workspace / "results" / name]
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        typer.echo(f"removed study {name!r}: {len(keys)} trials no other study uses, and their "
                   f"artifacts, from {store.workspace}")
