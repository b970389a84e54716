"""`hyperlab status STUDY`: per variant, trials done / running / pending / failed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hyperlab.errors import UserError


def command(
    study: str = typer.Argument(..., help="Study file (selects the trials it plans), or a study name "
                                "(selects everything stored under it)."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable); selects that configuration's trials."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per variant, as a list."),
) -> None:
    """Show how far a study is: for a study file, its current plan (edits show as pending)."""
    from hyperlab.api import find_study
    from hyperlab.runner.status import placed_from_store, status_frame
    from hyperlab.store import Store

    name, loaded = find_study(study, set_ or [])
    if loaded is not None:
        frame = loaded.status(workspace)
        selection = f"the {int(frame['trials'].sum())} trials planned by {loaded.describe()}"
    else:
        if set_:
            raise UserError(f"--set: applies to a study file, and {study!r} is a study name; pass the "
                            "study file to select its plan")
        with Store.open(workspace, create=False, readonly=True) as store:
            if store.study(name) is None:
                raise UserError(f"{study}: no such study file, and no study of that name in "
                                f"{store.workspace}")
            variants, trials = placed_from_store(store, name)
            frame = status_frame(store, variants, trials)
            selection = (f"everything stored under the study name {name!r} in {store.workspace}: the "
                         f"{len(trials)} trials of its last run's plan")
    print(f"hyperlab: {selection}", file=sys.stderr)
    if as_json:
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        typer.echo(json.dumps(records, indent=2, default=str))
        return
    table = Table(title=f"{name}", title_justify="left")
    for column, justify in (("variant", "left"), ("done", "right"), ("running", "right"),
                            ("pending", "right"), ("failed", "right"), ("diverged", "right"),
                            ("in_flight", "left")):
        table.add_column(column.replace("_", " "), justify=justify)
    for row in frame.itertuples(index=False):
        if not row.budget_ok:
            table.add_row(row.variant, "", "", "", "", "", "[yellow]over budget: not trained[/]")
            continue
        table.add_row(row.variant, str(row.done), str(row.running), str(row.pending), str(row.failed),
                      str(row.diverged), "; ".join(filter(None, [row.running_epochs, row.resumes])))
    console = Console(width=None if sys.stdout.isatty() else 160)  # a pipe gets the whole line
    console.print(table)
    totals = frame[["trials", "done", "running", "pending", "failed", "diverged"]].sum()
    console.print(f"{totals['done']}/{totals['trials']} done, {totals['running']} running, "
                  f"{totals['pending']} pending, {totals['failed']} failed, {totals['diverged']} diverged")
    for line in numerics_lines(frame):
        console.print(line, markup=False, highlight=False)


def numerics_lines(frame) -> list[str]:
    """What the trials trained under (docs/performance.md, the numerics contract): one line when they
    share one set of numerics, else one per variant; and which trials mixed numerics."""
    distinct = sorted({text for cell in frame["numerics"] for text in cell.split(" | ") if text})
    lines = []
    if len(distinct) == 1:
        lines.append(f"numerics: {distinct[0]}")
    elif distinct:
        lines.append(f"trained under {len(distinct)} different numerics (results compare bit for bit only "
                     "within one):")
        lines += [f"  {row.variant}: {row.numerics}" for row in frame.itertuples(index=False) if row.numerics]
    mixed = [f"{row.variant} {row.mixed_numerics}" for row in frame.itertuples(index=False)
             if row.mixed_numerics]
    if mixed:
        lines.append("mixed numerics (resumed under other numerics): " + "; ".join(mixed))
    return lines
