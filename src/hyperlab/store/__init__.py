"""The embedded store: studies, trials, per-epoch metrics and results of one workspace (SQLite, WAL).

    store = Store.open("hyperlab-runs")          # <workspace>/hyperlab.db + <workspace>/artifacts/
    store.trial_statuses(keys)                   # {key: status} for the planner
    store.frames("quickstart")                   # StudyFrames: what analysis reads

Runners claim trials atomically (`claim`), write each epoch as it ends (`record_epoch`) and the
outcome in one transaction (`finish_trial`). docs/store.md describes the tables.
"""

from __future__ import annotations

from hyperlab.store.frames import StudyFrames
from hyperlab.store.owner import Owner
from hyperlab.store.readonly import open_readonly
from hyperlab.store.rows import (
    CLAIMABLE_STATUSES,
    FINISHED_STATUSES,
    TRIAL_STATUSES,
    StudyRow,
    TrialRow,
    VariantRow,
)
from hyperlab.store.sqlite import DB_NAME, DEFAULT_STALE_AFTER, LostClaimError, Store, resolve_workspace

__all__ = [
    "CLAIMABLE_STATUSES",
    "DB_NAME",
    "DEFAULT_STALE_AFTER",
    "FINISHED_STATUSES",
    "TRIAL_STATUSES",
    "LostClaimError",
    "Owner",
    "Store",
    "StudyFrames",
    "StudyRow",
    "TrialRow",
    "VariantRow",
    "open_readonly",
    "resolve_workspace",
]
