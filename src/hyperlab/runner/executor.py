"""Executors: how claimed trials get trained. The planner and the store know nothing about them.

An executor receives the trials still to train and a `RunContext`; for each trial it must claim it
in the store (`ctx.store.claim`) before training it, so that any number of executors, in any
number of processes or hosts, share one workspace without training a trial twice. The local
executor trains one trial at a time in this process; `ProcessExecutor` (runner/workers.py) runs
several local executors in subprocesses. A vectorized or Ray executor implements the same `run`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hyperlab.engine.settings import RunSettings
from hyperlab.runner.events import EventSink
from hyperlab.store import DEFAULT_STALE_AFTER, Owner, Store


@dataclass(frozen=True)
class TrialTask:
    """One trial to train: its key, where it sits in the study, and its resolved config."""

    key: str
    variant: str  # the first variant of the study that uses this trial
    seed: int
    config: Any  # hyperlab.engine.TrialConfig
    data_fingerprint: str | None = None  # what the data files contain (part of the trial's identity)

    @property
    def epochs(self) -> int:
        return int(self.config.train.epochs)


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


class Executor(Protocol):
    """Trains trials. Must claim each one before training it; returns when none is left to claim
    or `ctx.should_stop()` is true. Training outcomes (failed, diverged) are stored, not raised."""

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None: ...


class LocalExecutor:
    """One trial at a time, in this process, in the given order."""

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        from hyperlab.runner.trial import train_claimed

        for task in trials:
            if ctx.should_stop():
                return
            if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                train_claimed(task, ctx)
