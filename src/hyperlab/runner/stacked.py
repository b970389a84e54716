"""`VectorizedExecutor`: the runner's executor that trains compatible trials as one stack
(hyperlab.vectorized.train_group), each trial through the lifecycle `train_claimed` uses.

It implements the runner's `Executor` protocol (`run(trials, ctx)`): trials are grouped with
`stack_groups` (same seed first, so a group shares its batches: the paired design; trials left
alone by that then stack across seeds, each gathering its own batches), every trial is
claimed in the store before it trains, each one's epochs and outcome are stored as they happen by
the same `hyperlab.runner.lifecycle.ClaimedTrial` that `train_claimed` uses (with `ctx.prune`
asked after each epoch of each trial: a pruned trial leaves the stack). A group of one, a trial that cannot be
vectorized, and a trial with stored epochs (it resumes from its checkpoint) go to the engine.
"""

from __future__ import annotations

import shutil
import traceback
from collections.abc import Sequence
from typing import Any

from hyperlab.errors import UserError
from hyperlab.faults import end_run_on_environment_fault
from hyperlab.runner.events import OutputClosed
from hyperlab.runner.executor import Capabilities
from hyperlab.runner.lifecycle import ClaimedTrial, Heartbeat
from hyperlab.runner.trial import train_claimed
from hyperlab.vectorized import group_trials, train_group


class VectorizedExecutor:
    """Trains groups of compatible trials together in this process, the rest one at a time."""

    def __init__(self, max_group: int = 16, worker: int = 0, workers: int = 1) -> None:
        if max_group < 1:
            raise ValueError(f"max_group must be >= 1, got {max_group}")
        if not 0 <= worker < workers:
            raise ValueError(f"worker must be in [0, {workers}), got {worker}")
        self.max_group = max_group
        self.worker, self.workers = worker, workers

    def capabilities(self, ctx: Any = None) -> Capabilities:
        return Capabilities(can_prune=True, can_stack=True)  # a pruned trial leaves its stack

    def run(self, trials: Sequence[Any], ctx: Any) -> None:
        groups = stack_groups(list(trials), self.max_group, ctx.settings.device)
        # Worker i of N (`--workers N`) starts with groups i, i+N, ... and then tries the others, so
        # that N processes over one trial list do not split each other's groups claim by claim.
        mine = groups[self.worker::self.workers]
        groups = mine + [g for i, g in enumerate(groups) if i % self.workers != self.worker]
        for group in groups:
            if ctx.should_stop():
                return
            fresh = []
            for task in group:
                if not ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                    continue
                if ctx.store.epochs(task.key) or len(group) == 1:
                    train_claimed(task, ctx)  # resumes from its checkpoint, or not vectorizable
                else:
                    fresh.append(task)
            if len(fresh) == 1:
                train_claimed(fresh[0], ctx)
            elif fresh:
                _train_claimed_group(fresh, ctx)


def stack_groups(trials: list[Any], max_group: int, device: str) -> list[list[Any]]:
    """The stacks to train, in order of each one's first trial. Trials of one seed stack first: they
    share every batch, so the first dense layer is one product for all of them. A trial that finds no
    partner of its seed (a depth level of a multi-seed study: its architecture is its own) then stacks
    with the same configuration's other seeds, each trial gathering its own batches: one stack of S
    trials costs far fewer steps than S trials one by one (quickstart: 6 lone trials become 2 stacks)."""
    position = {id(t): i for i, t in enumerate(trials)}
    by_seed = group_trials(trials, lambda t: t.config, seed_of=lambda t: t.seed, max_group=max_group,
                           device=device)
    alone = [group[0] for group in by_seed if len(group) == 1]
    across = group_trials(alone, lambda t: t.config, seed_of=None, max_group=max_group, device=device)
    groups = [group for group in by_seed if len(group) > 1] + across
    return sorted(groups, key=lambda group: position[id(group[0])])


def _train_claimed_group(tasks: list[Any], ctx: Any) -> None:
    """Train claimed, never-started `tasks` as one stack, each through the lifecycle `train_claimed`
    uses (hyperlab.runner.lifecycle): the stack only computes, the trial's bookkeeping is shared."""
    trials = [ClaimedTrial(task, ctx, stacked=len(tasks)) for task in tasks]
    for trial in trials:  # no stored epoch: whatever is in its folder is a leftover (cleared)
        trial.start()
    rest: list[Any] = []  # the trials the stack left unfinished when it failed
    with Heartbeat(ctx, [t.key for t in tasks]):
        try:
            train_group([t.config for t in tasks], [t.seed for t in tasks],
                        workdirs=[trial.workdir for trial in trials],
                        on_epoch=lambda i, record: trials[i].on_epoch(record),
                        on_result=lambda i, result: trials[i].finish(result), should_stop=ctx.should_stop,
                        settings=ctx.settings, data_fingerprints=[t.data_fingerprint for t in tasks])
        except (UserError, KeyboardInterrupt, OutputClosed) as exc:  # not the trials' fault: resumable
            for trial in trials:
                if not trial.ended:
                    trial.release(exc)
            raise
        except Exception as exc:  # a bug in the stack: record nothing as failed, retrain the rest one by one
            rest = [trial.task for trial in trials if not trial.ended]
            end_run_on_environment_fault(exc, ctx.store, [t.key for t in rest], ctx.owner)
            ctx.events.emit({"event": "vectorized_fallback", "trials": len(rest),
                             "error": traceback.format_exc(limit=-4)})
    for task in rest:
        ctx.store.reset_trials([task.key])
        shutil.rmtree(ctx.store.trial_dir(task.key), ignore_errors=True)
        if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
            train_claimed(task, ctx)
