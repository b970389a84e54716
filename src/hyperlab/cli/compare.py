"""`hyperlab compare STUDY_A STUDY_B`: the variants two studies share, B - A, paired or Welch."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import typer

from hyperlab.errors import UserError

FORMATS = ("table", "json", "csv")
# one record per matched variant (--format json / csv): numbers as numbers, B - A
RECORD_FIELDS = ("variant", "variant_b", "matched_by", "pairing", "test", "n", "a_mean", "b_mean",
                 "difference", "difference_lo", "difference_hi", "statistic", "p_value", "p_holm", "verdict",
                 "note", "config_differences")


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
    fmt: str = typer.Option("table", "--format", metavar="table|json|csv",
                            help="table (for people), or one record per matched variant as json or csv."),
) -> None:
    """Compare two studies variant by variant: exact sign-flip test by seed where 3 or more seeds finished
    in both, Welch's t-test otherwise; p-values Holm-adjusted. Reads the store only."""
    from rich.console import Console
    from rich.measure import Measurement

    from hyperlab.analysis.compare import compare_studies
    from hyperlab.api import find_study
    from hyperlab.report.compare import DIFFERS, comparison_rows, summary_line
    from hyperlab.store import open_readonly

    if fmt not in FORMATS:
        raise UserError(f"--format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
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
    if fmt != "table":
        sys.stdout.write(_records_text(comparison, fmt))
        return
    rows = comparison_rows(comparison)
    # a pipe or file gets whole lines (rich would wrap them at 80 columns and split numbers), unless
    # COLUMNS says how wide the reader is
    wide = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    console = Console(width=10_000, soft_wrap=True) if wide else Console()
    table = _table(rows, f"{name_b} - {name_a}")
    if Measurement.get(console, console.options.update_width(10_000), table).maximum <= console.width:
        console.print(table)
        console.print(summary_line(comparison))
        if rows:  # long: listed under the table rather than as a column that folds every row
            console.print(f"{DIFFERS[0].upper()}{DIFFERS[1:]}:", highlight=False)
            for row in rows:
                console.print(f"  {row['variant']}: {row[DIFFERS]}", highlight=False)
        return
    # a terminal too narrow for the table (which would fold numbers across lines): a block per variant
    console.print(f"{name_b} - {name_a}", style="italic", highlight=False)
    for row in rows:
        console.print(f"{row['variant']}: {_pairing(row)}, n = {row['n']}", style="bold", highlight=False)
        console.print(f"  A {row['A']}, B {row['B']}; B - A {row['B - A (95% CI)']}; p {row['p (Holm)']} "
                      f"(Holm-adjusted in brackets): {row['verdict']}", highlight=False)
        console.print(f"  {DIFFERS}: {row[DIFFERS]}", highlight=False)
    console.print(summary_line(comparison))


# the CLI's columns: "pairing" names the test ("exact sign-flip permutation test" / "Welch t-test")
SHOWN = ("variant", "pairing", "A", "B", "B - A (95% CI)", "p (Holm)", "n", "verdict")


def _table(rows: list[dict[str, str]], title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in SHOWN:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(_pairing(row) if c == "pairing" else row[c] for c in SHOWN))
    return table


def records(comparison) -> list[dict]:
    """One plain record per matched variant: what --format json and csv print."""
    from hyperlab.report.compare import comparison_rows

    verdicts = [r["verdict"] for r in comparison_rows(comparison)]
    out = []
    for row, verdict in zip(comparison.rows, verdicts, strict=True):
        out.append({
            "variant": row.variant_a, "variant_b": row.variant_b, "matched_by": row.matched_by,
            "pairing": row.pairing, "test": row.test or None, "n": row.n, "a_mean": row.a.mean,
            "b_mean": row.b.mean, "difference": row.difference.mean, "difference_lo": row.difference.lo,
            "difference_hi": row.difference.hi, "statistic": row.statistic, "p_value": row.p_value,
            "p_holm": row.p_holm, "verdict": verdict, "note": row.note or None,
            "config_differences": "; ".join(f"{c.key}: {json.dumps(c.baseline)} -> {json.dumps(c.value)}"
                                            for c in row.config_differences) or None,
        })
    return out


def _records_text(comparison, fmt: str) -> str:
    rows = records(comparison)
    if fmt == "json":
        document = {"study_a": comparison.study_a, "study_b": comparison.study_b,
                    "metric": comparison.metric.key, "difference": "B - A", "rows": rows,
                    "only_a": list(comparison.only_a), "only_b": list(comparison.only_b)}
        return json.dumps(document, indent=1) + "\n"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def _pairing(row: dict[str, str]) -> str:
    """The paired test (analysis.stats.TEST_NAME) / `Welch t-test`, or the pairing when no test ran."""
    return row["test"] if row["test"] != "none" else row["pairing"]
