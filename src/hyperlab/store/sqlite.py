"""The embedded store: one SQLite file per workspace, in WAL mode, safe for concurrent processes.

Every write is one transaction taken with `BEGIN IMMEDIATE` (the write lock is taken up front, so
two processes never deadlock upgrading a read to a write; `busy_timeout` makes the other wait).
A claim is a single compare-and-swap `UPDATE` whose rowcount says who won.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

from hyperlab.errors import UserError
from hyperlab.faults import RunFault, storage_fault
from hyperlab.store.build_frames import build_frames
from hyperlab.store.frames import StudyFrames
from hyperlab.store.owner import Owner
from hyperlab.store.rows import CLAIMABLE_STATUSES, FINISHED_STATUSES, StudyRow, TrialRow, VariantRow
from hyperlab.store.schema import SCHEMA, SCHEMA_VERSION, SEED_ADDITIONS, migration

DB_NAME = "hyperlab.db"
DEFAULT_STALE_AFTER = 600.0
"""Seconds without a heartbeat after which a trial run by a process on another host counts as dead."""


class LostClaimError(RuntimeError):
    """A runner wrote to a trial it no longer owns (another runner reclaimed it as dead)."""


def resolve_workspace(workspace: str | os.PathLike | None = None) -> Path:
    """`workspace`, else `$HYPERLAB_WORKSPACE`, else `./hyperlab-runs`."""
    if workspace is None or str(workspace) == "":
        workspace = os.environ.get("HYPERLAB_WORKSPACE") or "hyperlab-runs"
    return Path(workspace).expanduser()


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=False, allow_nan=True)


class Store:
    """A workspace: `<workspace>/hyperlab.db` and `<workspace>/artifacts/`."""

    def __init__(self, workspace: Path, connection: sqlite3.Connection) -> None:
        self.workspace = workspace
        self._conn = connection
        self._conn.row_factory = sqlite3.Row
        self._wal_inode: int | None = None  # the -wal file this connection writes to (see _check_wal)

    # --- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, workspace: str | os.PathLike | None = None, create: bool = True,
             readonly: bool = False) -> Store:
        """Open the workspace (default: `resolve_workspace()`), creating it when `create`.

        `readonly`: open the database read-only (SQLite `mode=ro`): nothing is written, so reading
        commands work on a read-only workspace. When the previous writer did not close cleanly (its
        `-wal` file is still there), the database is checked first (`PRAGMA quick_check`); a damaged
        or unwritable database is a one-line RunFault naming the file and the fix."""
        root = resolve_workspace(workspace)
        db_path = root / DB_NAME
        if not db_path.exists():
            if not create or readonly:
                raise UserError(f"{root}: not a hyperlab workspace ({DB_NAME} is missing); "
                                f"`hyperlab run STUDY --workspace {root}` creates it")
            try:
                (root / "artifacts").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UserError(f"{root}: cannot create the workspace: {exc.strerror}") from exc
        if not readonly and not (os.access(root, os.W_OK) and (not db_path.exists()
                                                              or os.access(db_path, os.W_OK))):
            raise RunFault(f"{db_path}: the workspace is read-only for this process; use a writable "
                           f"--workspace (status, results and report --out read it as it is)")
        try:
            conn = _connect(db_path, readonly)
            _check_integrity(conn, db_path)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                conn.close()
                raise UserError(f"{db_path}: written by a newer hyperlab (schema {version}, "
                                f"this one reads {SCHEMA_VERSION}); upgrade hyperlab")
            if version < SCHEMA_VERSION:
                if readonly and version == 0:
                    raise UserError(f"{db_path}: not a hyperlab database (no schema); "
                                    f"`hyperlab doctor --workspace {root}` checks it")
                if not readonly:  # an older schema is read as it is, upgraded by the next writer
                    upgrade = migration(version, conn.execute("PRAGMA schema_version").fetchone()[0])
                    script = (f"BEGIN IMMEDIATE;\n{upgrade}{SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};"
                              "\nCOMMIT;")
                    conn.executescript(script)
        except sqlite3.Error as exc:
            fault = storage_fault(exc, db_path) if _is_storage_error(exc) else None
            if fault is None:
                raise
            raise fault from exc
        return cls(root, conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db_path(self) -> Path:
        return self.workspace / DB_NAME

    @property
    def artifacts_dir(self) -> Path:
        return self.workspace / "artifacts"

    def trial_dir(self, key: str) -> Path:
        """Where a trial's checkpoint lives (created on demand by the engine)."""
        return self.artifacts_dir / "trials" / key

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything inside is committed together or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc
        self._check_wal()

    def _fault(self, exc: sqlite3.Error) -> Exception:
        return storage_fault(exc, self.db_path) if _is_storage_error(exc) else exc

    def _check_wal(self) -> None:
        """A commit lives in the `-wal` file until a checkpoint copies it into the database. While
        this connection is open that file must stay the same one: if it was removed or replaced, the
        commits just made exist only in a deleted file and no other process will ever see them."""
        try:
            inode = os.stat(f"{self.db_path}-wal").st_ino
        except FileNotFoundError:
            inode = None
        if self._wal_inode is None:
            self._wal_inode = inode
        elif inode != self._wal_inode:
            raise RunFault(f"{self.db_path}-wal: the database's write-ahead log was removed or replaced "
                           f"while this run was writing, so its last commits are lost; run `hyperlab "
                           f"doctor --workspace {self.workspace}`, then the same command again")

    def verify_durable(self, keys: Sequence[str]) -> None:
        """Check, through a new connection, that the database file holds what this connection has
        committed for `keys` (statuses and epoch counts); a run never reports success otherwise."""
        keys = list(keys)
        try:
            self._check_wal()
            with Store.open(self.workspace, create=False, readonly=True) as fresh:
                _check_integrity(fresh._conn, self.db_path, always=True)
                same = (fresh.trial_statuses(keys) == self.trial_statuses(keys)
                        and fresh._epoch_counts(keys) == self._epoch_counts(keys))
        except sqlite3.Error as exc:
            raise self._fault(exc) from exc
        if not same:
            raise RunFault(f"{self.db_path}: what this run committed is not in the database file (its "
                           f"-wal file was removed or damaged while the run was writing); run `hyperlab "
                           f"doctor --workspace {self.workspace}`, then the same command again")

    def _epoch_counts(self, keys: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT trial_key, COUNT(*) FROM epochs WHERE trial_key IN ({marks}) GROUP BY trial_key"
            out.update(self._conn.execute(query, chunk).fetchall())
        return out

    # --- studies --------------------------------------------------------------------------------
    def register_study(
        self, study: StudyRow, variants: Sequence[VariantRow], trials: Sequence[TrialRow]
    ) -> None:
        """Record a study's current plan. Trials new to the workspace start `pending`; trials
        already known (from this study's earlier plan or another study) keep their state."""
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO studies (name, description, spec, design, seeds, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "description = excluded.description, spec = excluded.spec, design = excluded.design, "
                "seeds = excluded.seeds, updated = excluded.updated",
                (study.name, study.description, _dumps(study.spec), study.design, _dumps(study.seeds),
                 now, now),
            )
            db.execute("DELETE FROM variants WHERE study = ?", (study.name,))
            db.executemany(
                'INSERT INTO variants (study, variant, factor, level, "order", is_baseline, params, macs, '
                "flops, train_flops, budget_ok, budget_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(study.name, v.variant, v.factor, v.level, v.order, int(bool(v.is_baseline)), v.params,
                  v.macs, v.flops, v.train_flops, int(bool(v.budget_ok)), v.budget_reason) for v in variants],
            )
            db.execute("DELETE FROM study_trials WHERE study = ?", (study.name,))
            db.executemany(
                "INSERT INTO trials (key, config, seed, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                [(t.key, t.config, t.seed, now) for t in trials],
            )
            db.executemany(
                "INSERT INTO study_trials (study, variant, seed, trial_key) VALUES (?, ?, ?, ?)",
                [(study.name, t.variant, t.seed, t.key) for t in trials],
            )

    def study_summaries(self) -> list[dict]:
        """One dict per study, by name: name, description, design, trials (of its last run's plan),
        finished (completed, early stopped, diverged or failed), created and updated (Unix seconds:
        the last registration or trial end)."""
        finished = tuple(sorted(FINISHED_STATUSES))
        rows = self._conn.execute(
            "SELECT s.name, s.description, s.design, s.created, "
            "MAX(s.updated, COALESCE(MAX(t.finished), 0)) AS updated, COUNT(st.trial_key) AS trials, "
            f"COALESCE(SUM(t.status IN ({','.join('?' * len(finished))})), 0) AS finished "
            "FROM studies s LEFT JOIN study_trials st ON st.study = s.name "
            "LEFT JOIN trials t ON t.key = st.trial_key GROUP BY s.name ORDER BY s.name", finished)
        return [dict(r) for r in rows]

    def remove_study(self, name: str, force: bool = False,
                     stale_after: float = DEFAULT_STALE_AFTER) -> list[str]:
        """Forget a study in one transaction: its rows, and the trials no other study uses (their
        epochs, results and artifact rows). Returns those trials' keys, whose artifact folders
        (`trial_dir`) the caller deletes once this has committed. A study a live runner is training
        is refused (UserError) unless `force`; checked in the same transaction, so no claim slips
        in between (a forced removal ends that runner: hyperlab.runner sees its trials vanish)."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM studies WHERE name = ?", (name,)).fetchone() is None:
                raise UserError(f"{self.workspace}: no study named {name!r} (known: "
                                f"{', '.join(self.study_names()) or 'none'})")
            if not force:
                self._refuse_running(db, name, stale_after)
            orphans = [r[0] for r in db.execute(
                "SELECT DISTINCT trial_key FROM study_trials WHERE study = ? AND trial_key NOT IN "
                "(SELECT trial_key FROM study_trials WHERE study != ?)", (name, name))]
            db.execute("DELETE FROM study_trials WHERE study = ?", (name,))
            db.execute("DELETE FROM variants WHERE study = ?", (name,))
            db.execute("DELETE FROM studies WHERE name = ?", (name,))
            db.execute(SEED_ADDITIONS)
            db.execute("DELETE FROM seed_additions WHERE study = ?", (name,))
            for chunk in _chunks(orphans):
                marks = ",".join("?" * len(chunk))
                for table, column in (("epochs", "trial_key"), ("results", "trial_key"),
                                      ("artifacts", "trial_key"), ("placements", "trial_key"),
                                      ("trials", "key")):
                    db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
        return orphans

    def _refuse_running(self, db: sqlite3.Connection, name: str, stale_after: float) -> None:
        rows = db.execute("SELECT t.status, t.owner, t.heartbeat FROM study_trials st JOIN trials t "
                          "ON t.key = st.trial_key WHERE st.study = ? AND t.status = 'running'", (name,))
        here = Owner.current().host
        owners = [Owner.parse(r["owner"]) for r in rows if not self.is_dead(dict(r), stale_after)]
        if owners:
            pids = {f"{o.pid}" if o.host == here else f"{o.pid} on {o.host}" for o in owners}
            where = ", ".join(sorted(pids))
            raise UserError(f"{name} is running in PID {where}; stop it first (or remove it anyway with "
                            f"--force: that run then ends, storing nothing more)")

    def add_seeds(self, study: str, additions: Sequence[tuple[str, int, str]]) -> None:
        """Record (variant, seed, reason) rows of seeds added until settled (kept when already there:
        the first reason stays). Recorded before the trials are registered, so a run killed between
        the two registers them on resume."""
        now = time.time()
        with self._write() as db:
            db.execute(SEED_ADDITIONS)
            db.executemany(
                "INSERT INTO seed_additions (study, variant, seed, reason, added) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(study, variant, seed) DO NOTHING",
                [(study, variant, int(seed), reason, now) for variant, seed, reason in additions])

    def seed_additions(self, study: str) -> list[dict]:
        """The study's added seeds (variant, seed, reason, added), in the order they were added."""
        try:
            rows = self._conn.execute("SELECT variant, seed, reason, added FROM seed_additions "
                                      "WHERE study = ? ORDER BY added, variant, seed", (study,))
            return [dict(r) for r in rows]
        except sqlite3.OperationalError as exc:  # a file from before the table: nothing was added
            if "no such table" in str(exc):
                return []
            raise

    def study_names(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT name FROM studies ORDER BY name")]

    def study(self, name: str) -> dict | None:
        """The registered study (name, description, design, spec, seeds, created, updated), or None."""
        row = self._conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["spec"] = json.loads(out["spec"])
        out["seeds"] = json.loads(out["seeds"])
        return out

    def study_trials(self, name: str) -> list[dict]:
        """The study's (variant, seed) rows joined with their trial's state, in plan order."""
        rows = self._conn.execute(
            "SELECT st.variant, st.seed, st.trial_key AS key, t.status, t.owner, t.host, t.heartbeat, "
            "t.attempts, t.config, v.\"order\" AS variant_order, "
            "(SELECT MAX(epoch) FROM epochs e WHERE e.trial_key = st.trial_key) AS last_epoch "
            "FROM study_trials st JOIN trials t ON t.key = st.trial_key "
            "LEFT JOIN variants v ON v.study = st.study AND v.variant = st.variant "
            "WHERE st.study = ? ORDER BY v.\"order\", st.variant, st.seed",
            (name,),
        )
        return [dict(r) for r in rows]

    def variants(self, name: str) -> list[dict]:
        rows = self._conn.execute('SELECT * FROM variants WHERE study = ? ORDER BY "order"', (name,))
        return [dict(r) for r in rows]

    # --- trials ---------------------------------------------------------------------------------
    def trial(self, key: str) -> dict | None:
        row = self._conn.execute("SELECT * FROM trials WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(row)

    def trial_statuses(self, keys: Iterable[str]) -> dict[str, str]:
        """Status of each key known to the store (unknown keys are absent)."""
        out: dict[str, str] = {}
        keys = list(keys)
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, status FROM trials WHERE key IN ({marks})"
            out.update((key, status) for key, status in self._conn.execute(query, chunk))
        return out

    def is_dead(
        self, trial: dict, stale_after: float = DEFAULT_STALE_AFTER, now: float | None = None
    ) -> bool:
        """True when a `running` trial's owner is gone: on this host, its process is not alive;
        on another host, its heartbeat is older than `stale_after` seconds."""
        if trial["status"] != "running":
            return False
        if not trial["owner"]:
            return True
        owner = Owner.parse(trial["owner"])
        if owner.host == Owner.current().host:
            return not owner.is_alive_here()
        now = time.time() if now is None else now
        return trial["heartbeat"] is None or now - trial["heartbeat"] > stale_after

    def claim(self, key: str, owner: Owner, stale_after: float = DEFAULT_STALE_AFTER) -> bool:
        """Atomically take a trial that is pending, interrupted, or running under a dead owner.
        Returns True for exactly one of any number of concurrent claimers."""
        current = self.trial(key)
        if current is None:
            return False
        dead_owner, seen_heartbeat = None, None
        if self.is_dead(current, stale_after):
            dead_owner, seen_heartbeat = current["owner"], current["heartbeat"]
        now = time.time()
        statuses = tuple(sorted(CLAIMABLE_STATUSES))
        # Compare-and-swap: a dead owner is only replaced if it is still the owner and has not
        # heart-beaten since we judged it dead; any concurrent claimer changes one of the two.
        cursor = self._conn.execute(
            f"UPDATE trials SET status = 'running', owner = ?, host = ?, heartbeat = ?, "
            f"started = COALESCE(started, ?), attempts = attempts + 1, finished = NULL "
            f"WHERE key = ? AND (status IN ({','.join('?' * len(statuses))}) OR (status = 'running' "
            f"AND owner IS ? AND heartbeat IS ? AND ? IS NOT NULL))",
            (str(owner), owner.host, now, now, key, *statuses, dead_owner, seen_heartbeat, dead_owner),
        )
        return cursor.rowcount == 1

    def record_placement(self, key: str, owner: Owner, node: str) -> None:
        """Say on which node a trial `owner` holds trains now (a Ray task's node); `status` shows it."""
        with self._write() as db:
            self._assert_owner(db, key, owner)
            db.execute("INSERT OR REPLACE INTO placements (trial_key, node, since) VALUES (?, ?, ?)",
                       (key, node, time.time()))

    def placement(self, key: str) -> str | None:
        """The node a trial was last placed on, or None (never placed, or a database before schema 3)."""
        try:
            row = self._conn.execute("SELECT node FROM placements WHERE trial_key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # an older database read as it is: no placements table
            return None
        return None if row is None else row[0]

    def heartbeat(self, key: str, owner: Owner) -> bool:
        """Mark the trial as still being worked on; False when `owner` no longer holds it."""
        try:
            cursor = self._conn.execute(
                "UPDATE trials SET heartbeat = ? WHERE key = ? AND owner = ? AND status = 'running'",
                (time.time(), key, str(owner)),
            )
        except sqlite3.Error:  # a full or locked disk: the trial's next write reports it in one line;
            return True  # a heartbeat thread must not die with a traceback over it
        return cursor.rowcount == 1

    def _assert_owner(self, db: sqlite3.Connection, key: str, owner: Owner) -> None:
        cursor = db.execute(
            "UPDATE trials SET heartbeat = ? WHERE key = ? AND owner = ? AND status = 'running'",
            (time.time(), key, str(owner)),
        )
        if cursor.rowcount != 1:
            raise LostClaimError(f"trial {key} is no longer run by {owner}")

    def record_epoch(self, key: str, owner: Owner, record: dict) -> None:
        """Store one epoch's metrics (upsert on (trial, epoch)), committed before returning."""
        epoch = int(record["epoch"])
        metrics = _dumps(record)
        with self._write() as db:
            self._assert_owner(db, key, owner)
            db.execute(
                "INSERT INTO epochs (trial_key, epoch, metrics) VALUES (?, ?, ?) "
                "ON CONFLICT(trial_key, epoch) DO UPDATE SET metrics = excluded.metrics",
                (key, epoch, metrics),
            )

    def record_epochs(self, owner: Owner, records: Sequence[tuple[str, dict]]) -> set[str]:
        """Store many trials' epochs (key, record) in one transaction, committed before returning (a
        stack's epoch: one commit instead of one per trial). Returns the keys `owner` no longer
        holds: their records are not stored (record_epoch would raise LostClaimError for them)."""
        lost: set[str] = set()
        with self._write() as db:
            for key, record in records:
                if key in lost:
                    continue
                try:
                    self._assert_owner(db, key, owner)
                except LostClaimError:
                    lost.add(key)
                    continue
                db.execute(
                    "INSERT INTO epochs (trial_key, epoch, metrics) VALUES (?, ?, ?) "
                    "ON CONFLICT(trial_key, epoch) DO UPDATE SET metrics = excluded.metrics",
                    (key, int(record["epoch"]), _dumps(record)),
                )
        return lost

    def finish_trial(
        self,
        key: str,
        owner: Owner,
        *,
        status: str,
        epochs: Sequence[dict] = (),
        final: dict | None = None,
        seconds: float | None = None,
        error: str | None = None,
        stop_reason: str | None = None,
        best_epoch: int | None = None,
        params: int | None = None,
        versions: dict | None = None,
        artifacts: Sequence[dict] = (),
        numerics: Sequence[dict] | None = None,
    ) -> None:
        """Record how a claimed trial ended, in one transaction: status, timing, every epoch
        (upserted again, so a record lost between the engine and the store is filled in), the final
        results and the artifacts (dicts with kind, path relative to the workspace, sha256, bytes)."""
        epoch_rows = [(key, int(r["epoch"]), _dumps(r)) for r in epochs]
        final_json = None if final is None else _dumps(final)
        with self._write() as db:
            self._assert_owner(db, key, owner)
            db.execute(
                "UPDATE trials SET status = ?, finished = ?, seconds = ?, error = ?, stop_reason = ?, "
                "best_epoch = ?, params = COALESCE(?, params), versions = ?, numerics = ? WHERE key = ?",
                (status, time.time(), _finite(seconds), error, stop_reason, best_epoch, params,
                 None if versions is None else _dumps(versions), _dumps(list(numerics)) if numerics else None,
                 key),
            )
            db.executemany(
                "INSERT INTO epochs (trial_key, epoch, metrics) VALUES (?, ?, ?) "
                "ON CONFLICT(trial_key, epoch) DO UPDATE SET metrics = excluded.metrics",
                epoch_rows,
            )
            if final_json is not None:
                db.execute(
                    "INSERT INTO results (trial_key, final) VALUES (?, ?) "
                    "ON CONFLICT(trial_key) DO UPDATE SET final = excluded.final",
                    (key, final_json),
                )
            db.executemany(
                "INSERT INTO artifacts (trial_key, kind, path, sha256, bytes) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(trial_key, kind) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, "
                "bytes = excluded.bytes",
                [(key, a["kind"], a["path"], a["sha256"], a["bytes"]) for a in artifacts],
            )

    def release(self, key: str, owner: Owner, status: str = "interrupted", error: str | None = None) -> bool:
        """Give a claimed trial back (`interrupted`: resumes from its checkpoint; `pending`: as new)."""
        if status not in CLAIMABLE_STATUSES:
            raise ValueError(f"release status must be one of {sorted(CLAIMABLE_STATUSES)}, got {status!r}")
        cursor = self._conn.execute(
            "UPDATE trials SET status = ?, heartbeat = ?, error = ? WHERE key = ? AND owner = ? "
            "AND status = 'running'",
            (status, time.time(), error, key, str(owner)),
        )
        return cursor.rowcount == 1

    def reset_trials(self, keys: Iterable[str]) -> None:
        """Forget everything trained for these trials (`--rerun`): they become `pending` again."""
        keys = list(keys)
        with self._write() as db:
            for key in keys:
                for table in ("epochs", "results", "artifacts", "placements"):
                    db.execute(f"DELETE FROM {table} WHERE trial_key = ?", (key,))
                db.execute(
                    "UPDATE trials SET status = 'pending', owner = NULL, host = NULL, heartbeat = NULL, "
                    "attempts = 0, started = NULL, finished = NULL, seconds = NULL, error = NULL, "
                    "stop_reason = NULL, best_epoch = NULL, params = NULL, versions = NULL, numerics = NULL "
                    "WHERE key = ?",
                    (key,),
                )

    def epochs(self, key: str) -> list[dict]:
        rows = self._conn.execute("SELECT metrics FROM epochs WHERE trial_key = ? ORDER BY epoch", (key,))
        return [json.loads(r[0]) for r in rows]

    def final(self, key: str) -> dict | None:
        row = self._conn.execute("SELECT final FROM results WHERE trial_key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def artifacts(self, key: str) -> list[dict]:
        rows = self._conn.execute("SELECT kind, path, sha256, bytes FROM artifacts WHERE trial_key = ? "
                                  "ORDER BY kind", (key,))
        return [dict(r) for r in rows]

    # --- analysis -------------------------------------------------------------------------------
    def frames(self, study_name: str) -> StudyFrames:
        """Everything stored under a study name: the trials of the plan its last run registered
        (columns: docs/results.md), read in one snapshot."""
        self._conn.execute("BEGIN")  # one read transaction: a consistent view while runners write
        try:
            study = self.study(study_name)
            if study is None:
                raise UserError(f"{self.workspace}: no study named {study_name!r} (known: "
                                f"{', '.join(self.study_names()) or 'none'})")
            trials = [dict(r) for r in self._conn.execute(
                "SELECT st.variant, st.seed, t.* FROM study_trials st JOIN trials t ON t.key = st.trial_key "
                "WHERE st.study = ?", (study_name,))]
            epochs, finals = self._epochs_and_finals({t["key"] for t in trials})
            variants = self.variants(study_name)
        finally:
            self._conn.execute("COMMIT")
        frames = build_frames(study, variants, trials, epochs, finals)
        frames.study["selection"] = (f"everything stored under the study name {study_name!r} in "
                                     f"{self.workspace}: the {len(trials)} trials of its last run's plan")
        frames.study["seed_additions"] = self.seed_additions(study_name)
        return frames

    def planned_frames(self, study: StudyRow, variants: Sequence[VariantRow], trials: Sequence[TrialRow],
                       source: str = "the study file") -> StudyFrames:
        """The frames of a plan (the rows `register_study` takes) as this store holds them: exactly
        the planned trials, whatever another configuration of the same study name stored; a planned
        trial the store does not know yet is `pending`. `source` names the plan in `selection`."""
        keys = sorted({t.key for t in trials})
        self._conn.execute("BEGIN")
        try:
            stored = self.study(study.name)
            by_key: dict[str, dict] = {}
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                by_key.update((r["key"], dict(r)) for r in self._conn.execute(
                    f"SELECT * FROM trials WHERE key IN ({marks})", chunk))
            epochs, finals = self._epochs_and_finals(keys)
        finally:
            self._conn.execute("COMMIT")
        now = time.time()
        study_dict = {"name": study.name, "description": study.description, "design": study.design,
                      "spec": study.spec, "seeds": list(study.seeds),
                      "created": stored["created"] if stored else now,
                      "updated": stored["updated"] if stored else now}
        trial_dicts = []
        for t in trials:
            row = by_key.get(t.key) or {"key": t.key, "config": t.config, "seed": t.seed, "status": "pending",
                                       "stop_reason": None, "error": None, "params": None, "seconds": None,
                                       "best_epoch": None, "finished": None}
            trial_dicts.append({**row, "variant": t.variant, "seed": t.seed})
        variant_dicts = [{**asdict(v), "is_baseline": bool(v.is_baseline)} for v in variants]
        frames = build_frames(study_dict, variant_dicts, trial_dicts, epochs, finals)
        done = sum(1 for t in trial_dicts if t["status"] in FINISHED_STATUSES)
        frames.study["selection"] = (f"the {len(trial_dicts)} trials planned by {source} "
                                     f"({done} finished in {self.workspace})")
        frames.study["seed_additions"] = self.seed_additions(study.name)
        return frames

    def _epochs_and_finals(self, keys: Iterable[str]) -> tuple[list[dict], list[dict]]:
        epochs: list[dict] = []
        finals: list[dict] = []
        for chunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(chunk))
            epochs += [dict(r) for r in self._conn.execute(
                f"SELECT trial_key, epoch, metrics FROM epochs WHERE trial_key IN ({marks}) "
                f"ORDER BY trial_key, epoch", chunk)]
            finals += [dict(r) for r in self._conn.execute(
                f"SELECT trial_key, final FROM results WHERE trial_key IN ({marks})", chunk)]
        return epochs, finals


def _chunks(keys: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Slices of `keys` under SQLite's bound-parameter limit."""
    for start in range(0, len(keys), size):
        yield list(keys[start : start + size])


def _connect(db_path: Path, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        conn = sqlite3.connect(db_path, timeout=60.0, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # an epoch reported stored survives a power cut
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    uri = f"file:{quote(str(db_path.absolute()))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    try:
        conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.OperationalError:
        # A WAL database in a folder this process cannot write (a read-only mount): SQLite cannot
        # create the -shm index a reader needs. Nothing can be writing there, so read it as immutable.
        conn.close()
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None)
    return conn


def _check_integrity(conn: sqlite3.Connection, db_path: Path, always: bool = False) -> None:
    """`PRAGMA quick_check` when the last writer did not close cleanly (its -wal file is left), or
    `always`; a damaged database is a RunFault naming the file and the command that checks it."""
    if not always and not Path(f"{db_path}-wal").exists():
        return
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        first = " ".join(problems[0].split())  # SQLite's report spans lines; the message is one
        raise RunFault(f"{db_path}: the database is damaged ({first}); run `hyperlab doctor "
                       f"--workspace {db_path.parent}` to check it and see what can be recovered")


def _is_storage_error(exc: sqlite3.Error) -> bool:
    """Errors of the file or the disk (locked, full, read-only, malformed, I/O), not of a query."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
