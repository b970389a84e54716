"""Executors: how claimed trials get trained. The planner and the store know nothing about them.

An executor receives the trials still to train and a `RunContext`; for each trial it must claim it
in the store (`ctx.store.claim`) before training it, so that any number of executors, in any
number of processes or hosts, share one workspace without training a trial twice. The local
executor trains one trial at a time in this process; `ProcessExecutor` (runner/workers.py) runs
several local executors in subprocesses. A vectorized or Ray executor implements the same `run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hyperlab.runner.task import RunContext, TrialTask
from hyperlab.runner.trial import train_claimed

__all__ = ["Executor", "LocalExecutor", "RunContext", "TrialTask"]


class Executor(Protocol):
    """Trains trials. Must claim each one before training it; returns when none is left to claim
    or `ctx.should_stop()` is true. Training outcomes (failed, diverged) are stored, not raised."""

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None: ...


class LocalExecutor:
    """One trial at a time, in this process, in the given order."""

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        for task in trials:
            if ctx.should_stop():
                return
            if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                train_claimed(task, ctx)
