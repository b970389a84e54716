"""`hyperlab doctor`: check a workspace's database and artifacts, and say what can be recovered.

Reads only (the database is opened read-only) unless `--recover` is given, which copies every row
that can still be read into `hyperlab.db.recovered` beside the damaged file and prints the two
commands that put it in place. Exit 0 when everything checks out, 2 when something does not.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from urllib.parse import quote

import typer

from hyperlab.errors import UserError

TABLES = ("studies", "variants", "trials", "study_trials", "epochs", "results", "artifacts")
RESUMABLE = ("pending", "running", "interrupted")


def command(
    workspace: Path | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE", help="Results folder (default: ./hyperlab-runs)."),
    recover: bool = typer.Option(
        False, "--recover", help="Copy every readable row into hyperlab.db.recovered (the original is "
        "kept)."),
) -> None:
    """Check the database (PRAGMA integrity_check) and every stored artifact against its SHA-256, and
    every checkpoint against the hashes written with it; report what can be recovered."""
    from hyperlab.store import DB_NAME, resolve_workspace

    root = resolve_workspace(workspace)
    db_path = root / DB_NAME
    if not db_path.is_file():
        raise UserError(f"{root}: not a hyperlab workspace ({DB_NAME} is missing)")
    problems = 0
    conn = sqlite3.connect(f"file:{quote(str(db_path.absolute()))}?mode=ro", uri=True)
    try:
        damage = _integrity(conn)
        if damage:
            problems += 1
            typer.echo(f"database {db_path}: DAMAGED ({'; '.join(damage[:3])})")
        else:
            typer.echo(f"database {db_path}: ok")
        counts = _readable_rows(conn)
        typer.echo("readable rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        if "trials" in counts:
            problems += _check_trials(conn, root)
        if recover:
            target = _recover(conn, db_path)
            typer.echo(f"recovered into {target}; to use it: mv {db_path} {db_path}.damaged && "
                       f"rm -f {db_path}-wal {db_path}-shm && mv {target} {db_path}")
        elif damage:
            typer.echo(f"recover what is readable: hyperlab doctor --workspace {root} --recover "
                       "(trials whose rows are lost are trained again by the next run)")
    finally:
        conn.close()
    if problems:
        raise typer.Exit(2)
    typer.echo("no problem found")


def _integrity(conn: sqlite3.Connection) -> list[str]:
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def _readable_rows(conn: sqlite3.Connection) -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for table in TABLES:
        try:
            out[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
        except sqlite3.DatabaseError as exc:
            out[table] = f"unreadable ({exc})"
    return out


def _check_trials(conn: sqlite3.Connection, root: Path) -> int:
    """Artifacts against their recorded SHA-256; checkpoints of unfinished trials against theirs."""
    from hyperlab.engine.checkpoint import PREVIOUS_DIR, CheckpointError, verify_checkpoint

    problems = 0
    try:
        artifacts = conn.execute("SELECT trial_key, kind, path, sha256 FROM artifacts").fetchall()
        trials = conn.execute("SELECT key, status FROM trials").fetchall()
    except sqlite3.DatabaseError as exc:
        typer.echo(f"trials and artifacts: unreadable ({exc})")
        return 1
    bad = []
    for key, kind, path, sha in artifacts:
        file = root / path
        if not file.is_file():
            bad.append(f"{path}: missing")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != sha:
            bad.append(f"{path}: SHA-256 differs from the one stored for trial {key[:12]} ({kind})")
    typer.echo(f"artifacts: {len(artifacts) - len(bad)} of {len(artifacts)} match their SHA-256")
    for line in bad:
        typer.echo(f"  {line}")
    problems += bool(bad)
    resumable, restart = 0, []
    for key, status in trials:
        if status not in RESUMABLE:
            continue
        workdir = root / "artifacts" / "trials" / key
        for folder in (workdir, workdir / PREVIOUS_DIR):
            try:
                verify_checkpoint(folder)
                resumable += 1
                break
            except FileNotFoundError:
                continue
            except CheckpointError as exc:
                restart.append(str(exc))
    unfinished = sum(1 for _, status in trials if status in RESUMABLE)
    typer.echo(f"trials: {len(trials)} ({len(trials) - unfinished} finished, {unfinished} to train; "
               f"{resumable} of those resume from a verified checkpoint)")
    for line in restart:
        typer.echo(f"  checkpoint that fails verification (the next run discards it): {line}")
    return problems


def _recover(conn: sqlite3.Connection, db_path: Path) -> Path:
    """Copy every readable row, table by table, into a fresh database with the current schema."""
    from hyperlab.store.schema import SCHEMA, SCHEMA_VERSION

    target = db_path.with_name(db_path.name + ".recovered")
    target.unlink(missing_ok=True)
    out = sqlite3.connect(target)
    try:
        out.executescript(f"{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};")
        for table in TABLES:
            copied = 0
            try:
                cursor = conn.execute(f"SELECT * FROM {table}")  # noqa: S608
                columns = ", ".join(f'"{d[0]}"' for d in cursor.description)
                marks = ", ".join("?" * len(cursor.description))
                insert = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                for row in cursor:  # stops at the first unreadable page of the table
                    out.execute(insert, row)
                    copied += 1
            except sqlite3.DatabaseError as exc:
                typer.echo(f"  {table}: {copied} rows copied, then {exc}")
        out.commit()
    finally:
        out.close()
    return target
