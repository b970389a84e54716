"""What an executor is given: the trials to train (`TrialTask`) and the run around them (`RunContext`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperlab.engine.settings import RunSettings
from hyperlab.plan.task import TrialTask
from hyperlab.runner.events import EventSink
from hyperlab.store import DEFAULT_STALE_AFTER, Owner, Store


@dataclass
class RunContext:
    """What an executor needs besides the trials."""

    store: Store
    owner: Owner
    events: EventSink
    should_stop: Callable[[], bool]  # polled between epochs and between trials
    settings: RunSettings = field(default_factory=RunSettings)  # where and how fast (never results)
    stale_after: float = DEFAULT_STALE_AFTER  # seconds before another host's silent trial is dead
    heartbeat_every: float = 30.0  # seconds between heartbeats while a trial trains
    prune: Callable[[TrialTask, dict], str | None] | None = None
    """Asked after each stored epoch of a trial, with its epoch record (a search's pruner): None
    lets the trial go on; a text stops it, stored as status `pruned` with stop_reason
    "pruned at epoch E: <text>". Every executor whose capabilities say `can_prune` honours it."""
    prune_rule: Any = None
    """The plain-data rule `prune` asks (hyperlab.search.PruneRule, JSON-able via `to_json`), for
    executors whose trials train in other processes: they rebuild the same hook there."""
