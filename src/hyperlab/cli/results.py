"""`hyperlab results STUDY`: the study's tidy tables as CSV or JSON files (or one table on stdout)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hyperlab.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

TABLES = ("epochs", "finals", "trials", "variants")


def command(
    study: str = typer.Argument(..., help="Study file (selects the trials it plans), or a study name "
                                "(selects everything stored under it)."),
    set_: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key of the study file, as for `hyperlab run` "
        "(repeatable); selects that configuration's trials."),
    fmt: str = typer.Option("csv", "--format", metavar="csv|json", help="File format."),
    table: str | None = typer.Option(None, "--table", metavar="NAME",
                                     help="Only this table: epochs, finals, trials or variants."),
    out: str | None = typer.Option(None, "--out", metavar="DIR",
                                   help="Output folder (default: WORKSPACE/results/STUDY); `-` writes the "
                                   "one --table to stdout."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
) -> None:
    """Write the epochs, finals, trials and variants tables (one row per trial and epoch, per finished
    trial, per trial, per variant) plus study.json; columns and units: docs/results.md. List-valued
    cells (per-class accuracies, confusion matrices) are JSON text in CSV."""
    from hyperlab.api import select
    from hyperlab.store import resolve_workspace

    if fmt not in ("csv", "json"):
        raise UserError(f"--format: must be csv or json, got {fmt!r}")
    if table is not None and table not in TABLES:
        raise UserError(f"--table: must be one of {', '.join(TABLES)}, got {table!r}")
    if out == "-" and table is None:
        raise UserError("--out -: writes one table to stdout; choose it with --table (e.g. --table finals)")
    frames = select(study, set_ or [], workspace)
    print(f"hyperlab: {frames.study['selection']}", file=sys.stderr)
    if out == "-":
        sys.stdout.write(render(getattr(frames, table), fmt))
        return
    out_dir = Path(out) if out else resolve_workspace(workspace) / "results" / frames.study["name"]
    for path in write_tables(frames, out_dir, fmt, [table] if table else TABLES):
        typer.echo(str(path))


def render(frame: pd.DataFrame, fmt: str) -> str:
    """One table as CSV (lists as JSON text) or as a JSON list of records."""
    if fmt == "csv":
        return _listless(frame).to_csv(index=False)
    return frame.to_json(orient="records", indent=1) + "\n"


def write_tables(frames, out_dir: Path, fmt: str, tables=TABLES) -> list[Path]:
    """Write each of `tables` of `frames` to `out_dir` (atomically, file by file) and study.json;
    returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = out_dir / f"{table}.{fmt}"
        _write(path, render(getattr(frames, table), fmt))
        written.append(path)
    study_path = out_dir / "study.json"
    _write(study_path, json.dumps(frames.study, indent=1, default=str))
    return written + [study_path]


def _listless(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists, tuples and dicts as JSON text, so a CSV cell reads back with json.loads."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(_is_nested).any():
            out[column] = out[column].map(lambda v: json.dumps(v) if _is_nested(v) else v)
    return out


def _is_nested(value: object) -> bool:
    return isinstance(value, list | tuple | dict)


def _write(path: Path, text: str) -> None:
    """Temp file + rename, with the permissions a plain open() would give (the umask's), not
    mkstemp's private 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)  # the only way to read it; set straight back
    os.umask(current)
    return current
