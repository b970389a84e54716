"""`hyperlab results STUDY`: the study's tidy tables as CSV or JSON files."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import typer

from hyperlab.errors import UserError

TABLES = ("epochs", "finals", "trials", "variants")


def command(
    study: str = typer.Argument(..., help="Study file, or the name of a study in the workspace."),
    fmt: str = typer.Option("csv", "--format", help="csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: WORKSPACE/results/STUDY)."),
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
) -> None:
    """Write epochs, finals, trials and variants tables (one row per trial and epoch, per trial, ...)
    plus study.json. List-valued cells (per-class accuracies, confusion matrices) are JSON text in CSV."""
    from hyperlab.api import find_study
    from hyperlab.store import Store

    if fmt not in ("csv", "json"):
        raise UserError(f"--format: must be csv or json, got {fmt!r}")
    name, _ = find_study(study)
    with Store.open(workspace, create=False, readonly=True) as store:
        frames = store.frames(name)
        out_dir = out or store.workspace / "results" / name
    written = write_tables(frames, out_dir, fmt)
    for path in written:
        typer.echo(str(path))


def write_tables(frames, out_dir: Path, fmt: str) -> list[Path]:
    """Write each table of `frames` to `out_dir` (atomically, file by file); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        frame: pd.DataFrame = getattr(frames, table)
        path = out_dir / f"{table}.{fmt}"
        if fmt == "csv":
            text = _listless(frame).to_csv(index=False)
        else:
            text = frame.to_json(orient="records", indent=1)
        _write(path, text)
        written.append(path)
    study_path = out_dir / "study.json"
    _write(study_path, json.dumps(frames.study, indent=1, default=str))
    return written + [study_path]


def _listless(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and dicts as JSON text, so a CSV cell reads back with json.loads."""
    out = frame.copy()
    for column in out.columns:
        if out[column].map(lambda v: isinstance(v, list | dict)).any():
            out[column] = out[column].map(lambda v: json.dumps(v) if isinstance(v, list | dict) else v)
    return out


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
