"""Executors: how claimed trials get trained. The planner and the store know nothing about them.

An executor receives the trials still to train and a `RunContext`; for each trial it must claim it
in the store (`ctx.store.claim`) before training it, so that any number of executors, in any
number of processes or hosts, share one workspace without training a trial twice. The local
executor trains one trial at a time in this process; `ProcessExecutor` (runner/workers.py) runs
several local executors in subprocesses. A vectorized or Ray executor implements the same `run`.

What an executor can do is declared, never guessed from its type: `capabilities(ctx)` returns a
`Capabilities` (how many trials it trains at once, whether it honours the run's prune hook, whether
it stacks trials, whose devices it uses). The runner asks `capabilities(executor, ctx)`, which
gives an executor with only `run` the defaults (one at a time, no pruning, this machine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from hyperlab.runner.task import RunContext, TrialTask
from hyperlab.runner.trial import train_claimed

__all__ = ["Capabilities", "Executor", "LocalExecutor", "RunContext", "TrialTask", "capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """What an executor can do, as the runner needs to know it."""

    parallelism: int | None = None
    """Trials it trains at once (a search proposes that many at a time); None: the run's `--workers`."""
    can_prune: bool = False
    """It honours `RunContext.prune` (in this process) or `RunContext.prune_rule` (elsewhere) after
    every epoch; if not, the runner trains prunable trials one at a time in its own process."""
    can_stack: bool = False
    """It trains compatible trials as one stacked model (hyperlab.vectorized)."""
    devices: Literal["local", "cluster"] = "local"
    """Whose devices train: this machine's (the run checks `--device` here before it starts) or a
    cluster's nodes' (checked there)."""
    pruning_note: str | None = None
    """A line for the run's output when it trains prunable trials (where the prune decision is made)."""


class Executor(Protocol):
    """Trains trials. Must claim each one before training it; returns when none is left to claim
    or `ctx.should_stop()` is true. Training outcomes (failed, diverged) are stored, not raised."""

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None: ...

    def capabilities(self, ctx: RunContext | None = None) -> Capabilities:
        """What it can do; `ctx` None: before a run (parallelism may then be None)."""
        ...


def capabilities(executor: Executor, ctx: RunContext | None = None) -> Capabilities:
    """`executor.capabilities(ctx)`, or the defaults for an executor that only has `run`."""
    declared = getattr(executor, "capabilities", None)
    return declared(ctx) if callable(declared) else Capabilities()


class LocalExecutor:
    """One trial at a time, in this process, in the given order."""

    def capabilities(self, ctx: RunContext | None = None) -> Capabilities:
        return Capabilities(can_prune=True)

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        for task in trials:
            if ctx.should_stop():
                return
            if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                train_claimed(task, ctx)
