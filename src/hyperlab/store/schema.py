"""The SQLite schema of a workspace database (`<workspace>/hyperlab.db`).

Times are Unix seconds (REAL). JSON columns hold text written with `json.dumps` (NaN allowed:
a diverged trial's loss is NaN). Trials are keyed by content hash and shared between studies;
`study_trials` says which (variant, seed) of which study a trial realises.
"""

from __future__ import annotations

SCHEMA_VERSION = 4  # 2: trial statuses `pruned` and `infeasible` (search studies); 3: placements;
# 4: trials.numerics (what a trial trained under: device, dtype, torch, threads, deterministic)

OLD_STATUS_CHECK = "'diverged', 'failed', 'interrupted'))"  # the end of version 1's status CHECK
STATUS_CHECK = "'diverged', 'failed', 'interrupted', 'pruned', 'infeasible'))"

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    spec        TEXT NOT NULL,             -- the resolved study (JSON)
    design      TEXT NOT NULL,
    seeds       TEXT NOT NULL DEFAULT '[]',-- JSON list, plan order
    created     REAL NOT NULL,
    updated     REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS variants (
    study         TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
    variant       TEXT NOT NULL,
    factor        TEXT,
    level         TEXT,
    "order"       INTEGER NOT NULL,
    is_baseline   INTEGER NOT NULL CHECK (is_baseline IN (0, 1)),
    params        INTEGER,
    macs          INTEGER,
    flops         INTEGER,
    train_flops   INTEGER,
    budget_ok     INTEGER NOT NULL CHECK (budget_ok IN (0, 1)),
    budget_reason TEXT,
    PRIMARY KEY (study, variant)
);

CREATE TABLE IF NOT EXISTS trials (
    key         TEXT PRIMARY KEY,
    config      TEXT NOT NULL,             -- the resolved TrialConfig (JSON)
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed',
                'early_stopped', 'diverged', 'failed', 'interrupted', 'pruned', 'infeasible')),
    owner       TEXT,                      -- host/pid/start of the process that runs or ran it
    host        TEXT,
    heartbeat   REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,-- how many times it was claimed (a resume is an attempt)
    started     REAL,
    finished    REAL,
    seconds     REAL,                      -- training time reported by the engine
    error       TEXT,
    stop_reason TEXT,
    best_epoch  INTEGER,
    params      INTEGER,
    versions    TEXT,                      -- JSON: hyperlab, torch, python, engine
    created     REAL NOT NULL,
    numerics    TEXT                       -- JSON: [{from_epoch, numerics: {device, dtype, torch, ...}}]
);

CREATE TABLE IF NOT EXISTS study_trials (
    study     TEXT NOT NULL REFERENCES studies(name) ON DELETE CASCADE,
    variant   TEXT NOT NULL,
    seed      INTEGER NOT NULL,
    trial_key TEXT NOT NULL REFERENCES trials(key),
    PRIMARY KEY (study, variant, seed)
);
CREATE INDEX IF NOT EXISTS study_trials_by_key ON study_trials(trial_key);

CREATE TABLE IF NOT EXISTS epochs (
    trial_key TEXT NOT NULL REFERENCES trials(key),
    epoch     INTEGER NOT NULL,
    metrics   TEXT NOT NULL,               -- JSON: the engine's epoch record
    PRIMARY KEY (trial_key, epoch)
);

CREATE TABLE IF NOT EXISTS results (
    trial_key TEXT PRIMARY KEY REFERENCES trials(key),
    final     TEXT NOT NULL                -- JSON: TrialResult.final
);

CREATE TABLE IF NOT EXISTS placements (  -- where a running trial trains when not in its owner's process
    trial_key TEXT PRIMARY KEY,            -- a trial's key (no foreign key: removing a trial removes it)
    node      TEXT NOT NULL,               -- e.g. a Ray node's id (--executor ray)
    since     REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS seed_additions (  -- seeds until settled: why a (variant, seed) was added
    study   TEXT NOT NULL,
    variant TEXT NOT NULL,
    seed    INTEGER NOT NULL,
    reason  TEXT NOT NULL,                 -- e.g. "not settled: 95% CI half-width 2.1 points > target 1"
    added   REAL NOT NULL,
    PRIMARY KEY (study, variant, seed)
);

CREATE TABLE IF NOT EXISTS artifacts (
    trial_key TEXT NOT NULL REFERENCES trials(key),
    kind      TEXT NOT NULL,               -- e.g. checkpoint, checkpoint_meta
    path      TEXT NOT NULL,               -- relative to the workspace
    sha256    TEXT NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (trial_key, kind)
);
"""


# A table added after version 3 without a version bump: a writer creates it when first needed, readers
# of an older file see no rows (Store.seed_additions).
SEED_ADDITIONS = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS seed_additions"):SCHEMA.index(
    "CREATE TABLE IF NOT EXISTS artifacts")]


def migration(version: int, schema_version: int) -> str:
    """SQL that brings a database of `version` to SCHEMA_VERSION (`schema_version`: SQLite's counter).
    Version 1 -> 2 only widens the status CHECK, which SQLite allows by editing the table's SQL
    (https://www.sqlite.org/lang_altertable.html#otheralter: no stored row can violate it).
    Versions before 4 gain the trials' `numerics` column (NULL for the trials they hold: unknown)."""
    script = ""
    if version == 1:
        script = (f"PRAGMA writable_schema = ON;\n"
                  f"UPDATE sqlite_master SET sql = replace(sql, \"{OLD_STATUS_CHECK}\", \"{STATUS_CHECK}\") "
                  f"WHERE type = 'table' AND name = 'trials';\n"
                  f"PRAGMA schema_version = {schema_version + 1};\nPRAGMA writable_schema = OFF;\n")
    if 1 <= version < 4:  # version 0 is a new database: SCHEMA creates the table with the column
        script += "ALTER TABLE trials ADD COLUMN numerics TEXT;\n"
    return script
