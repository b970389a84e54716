"""Train one claimed trial (`hyperlab.vectorized.train_one`: a stack of one, or the engine), storing
each epoch as it ends and the outcome at the end (the lifecycle every executor shares:
hyperlab.runner.lifecycle)."""

from __future__ import annotations

from hyperlab.errors import UserError
from hyperlab.runner.events import OutputClosed
from hyperlab.runner.lifecycle import (
    ARTIFACT_KINDS,
    ClaimedTrial,
    Heartbeat,
    out_of_memory_names,
    record_outcome,
    versions,
)
from hyperlab.runner.task import RunContext, TrialTask

__all__ = ["ARTIFACT_KINDS", "record_outcome", "train_claimed", "versions"]


def train_claimed(task: TrialTask, ctx: RunContext) -> str:
    """Train `task`, which `ctx.owner` has claimed; returns the status stored for it.

    A trial the engine reports `interrupted` is released (it resumes from its checkpoint later);
    an exception escaping the engine is stored as a `failed` trial and the study goes on, except a
    UserError (bad input for every trial: re-raised, the trial `pending`), an environment fault
    (re-raised as a RunFault, the trial `interrupted`) and KeyboardInterrupt (second Ctrl-C).
    `ctx.prune(task, record)` may stop it after an epoch: status `pruned`.
    """
    from hyperlab.vectorized import train_one  # the one numerical path (a stack of one, or the engine)

    trial = ClaimedTrial(task, ctx)
    trial.start()
    with Heartbeat(ctx, [task.key]), out_of_memory_names(task.variant, task.memory):
        try:
            result = train_one(task.config, task.seed, workdir=trial.workdir, on_epoch=trial.on_epoch,
                                 should_stop=ctx.should_stop, settings=ctx.settings,
                                 data_fingerprint=task.data_fingerprint)
        except (UserError, KeyboardInterrupt, OutputClosed) as exc:  # not the trial's fault: resumable
            trial.release(exc)
            raise
        except Exception as exc:  # a bug in a component: record it, keep going with the study
            return trial.failed(exc)  # (an environment fault, out of memory too: released and raised)
    return trial.finish(result)
