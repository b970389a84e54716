"""`VectorizedExecutor`: the runner's executor that trains compatible trials as one stack
(hyperlab.vectorized.train_group), each trial through the lifecycle `train_claimed` uses.

It implements the runner's `Executor` protocol (`run(trials, ctx)`): trials are grouped with
`stack_groups` (every compatible trial of the run in one stack, across seeds and variants, cut
only where the device's memory demands), every trial is
claimed in the store before it trains, each one's epochs and outcome are stored as they happen by
the same `hyperlab.runner.lifecycle.ClaimedTrial` that `train_claimed` uses (with `ctx.prune`
asked after each epoch of each trial: a pruned trial leaves the stack). A group of one, a trial that cannot be
vectorized, and a trial with stored epochs (it resumes from its checkpoint) go to `train_claimed`, which
trains them as every executor does (`hyperlab.vectorized.train_one`: a stack of one, whose numbers a
stack of K reproduces bit for bit, or the engine for a trial the stack does not support).
"""

from __future__ import annotations

import shutil
import traceback
from collections.abc import Sequence
from typing import Any

from hyperlab.engine.determinism import resolve_device
from hyperlab.errors import UserError
from hyperlab.faults import end_run_on_environment_fault
from hyperlab.runner.events import OutputClosed
from hyperlab.runner.executor import Capabilities
from hyperlab.runner.lifecycle import ClaimedTrial, Heartbeat, out_of_memory_names
from hyperlab.runner.stack_writer import StackWriter, stack_note
from hyperlab.runner.trial import train_claimed
from hyperlab.vectorized import group_key, train_group
from hyperlab.vectorized.capture import draws_each_step
from hyperlab.vectorized.memory import DEFAULT_EVAL_BATCH, free_memory, stack_capacity, trial_footprint


class VectorizedExecutor:
    """Trains groups of compatible trials together in this process, the rest one at a time.
    `max_group`: at most this many trials per stack (None: as many as the device's free memory
    holds, hyperlab.vectorized.memory)."""

    def __init__(self, max_group: int | None = None, worker: int = 0, workers: int = 1) -> None:
        if max_group is not None and max_group < 1:
            raise ValueError(f"max_group must be >= 1, got {max_group}")
        if not 0 <= worker < workers:
            raise ValueError(f"worker must be in [0, {workers}), got {worker}")
        self.max_group = max_group
        self.worker, self.workers = worker, workers

    def capabilities(self, ctx: Any = None) -> Capabilities:
        return Capabilities(can_prune=True, can_stack=True)  # a pruned trial leaves its stack

    def run(self, trials: Sequence[Any], ctx: Any) -> None:
        groups = stack_groups(list(trials), self.max_group, ctx.settings.device, workers=self.workers,
                              eval_batch_size=ctx.settings.eval_batch_size)
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


def stack_groups(trials: list[Any], max_group: int | None, device: str, workers: int = 1,
                 free: int | None = None, eval_batch_size: int = DEFAULT_EVAL_BATCH) -> list[list[Any]]:
    """The stacks to train, in order of each one's first trial: every trial that can share a stack
    with another (same `group_key` ignoring the seed: the architecture, data, batch size, optimizer
    kind; any hyperparameters, activations, dropout, seed, augmentation) goes into one stack, cut
    only where memory demands (`stack_size`) or `max_group` says; a cut keeps seeds together, whose
    trials then share every batch. With `workers` > 1 the largest stacks are halved until each
    worker has one, where there are trials enough. `free`: the memory to plan with (default: the
    device's free memory now)."""
    position = {id(t): i for i, t in enumerate(trials)}
    by_key: dict[str, list[Any]] = {}
    groups: list[list[Any]] = []
    captures = _captures(device)
    for trial in trials:
        key = group_key(trial.config, device=device)
        if key is not None and captures and draws_each_step(trial.config):
            key += "|eager"  # on CUDA: the others' stack can then run as a CUDA graph (vectorized.capture)
        if key is None:
            groups.append([trial])
        else:
            by_key.setdefault(key, []).append(trial)
    for members in by_key.values():
        size = stack_size(members, max_group, device, free, eval_batch_size, workers)
        groups.extend(_cut(sorted(members, key=lambda t: (t.seed, position[id(t)])), size))
    while workers > 1 and len(groups) < workers:
        largest = max(groups, key=len)
        if len(largest) < 2:
            break
        groups.remove(largest)
        groups.extend(_cut(largest, (len(largest) + 1) // 2))
    for group in groups:
        group.sort(key=lambda t: position[id(t)])
    return sorted(groups, key=lambda group: position[id(group[0])])


def _captures(device: str) -> bool:
    """Whether stacks on `device` may run their step as a CUDA graph (on CUDA; the grouping does not
    follow HYPERLAB_CUDA_GRAPH, so turning capture off compares like with like)."""
    try:
        return resolve_device(device).type == "cuda"
    except RuntimeError:  # cuda asked for and absent: the run reports it
        return False


def stack_size(members: list[Any], max_group: int | None, device: str, free: int | None = None,
               eval_batch_size: int = DEFAULT_EVAL_BATCH, workers: int = 1) -> int:
    """Trials per stack for these compatible trials: what the device's free memory holds at their
    estimated footprint (hyperlab.vectorized.memory), shared by `workers` processes, at most
    `max_group`."""
    shared = len({t.seed for t in members}) == 1
    footprint = trial_footprint(members[0].config, eval_batch_size, shared=shared).bytes
    capacity = stack_capacity(footprint * workers, free_memory(device) if free is None else free)
    return min(capacity, max_group) if max_group is not None else capacity


def _cut(members: list[Any], size: int) -> list[list[Any]]:
    """`members` in as few runs of at most `size` as possible, of nearly equal length."""
    parts = -(-len(members) // max(size, 1))
    step = -(-len(members) // parts)
    return [members[i:i + step] for i in range(0, len(members), step)]


def _train_claimed_group(tasks: list[Any], ctx: Any) -> None:
    """Train claimed, never-started `tasks` as one stack, each through the lifecycle `train_claimed`
    uses (hyperlab.runner.lifecycle): the stack only computes, the trial's bookkeeping is shared.
    Epochs, checkpoints and outcomes are written by a background `StackWriter` (same order, same
    rules), except under a prune hook, which must see each epoch before the stack goes on."""
    trials = [ClaimedTrial(task, ctx, stacked=len(tasks)) for task in tasks]
    for trial in trials:  # no stored epoch: whatever is in its folder is a leftover (cleared)
        trial.start()
    writer = StackWriter(ctx, trials) if ctx.prune is None else None
    rest: list[Any] = []  # the trials the stack left unfinished when it failed
    named = (f"{tasks[0].variant} stacked with {len(tasks) - 1} other trials (--no-vectorize trains one "
             f"at a time)")
    needs = sum(t.memory for t in tasks) if all(t.memory for t in tasks) else None
    with Heartbeat(ctx, [t.key for t in tasks]), out_of_memory_names(named, needs):
        try:
            train_group([t.config for t in tasks], [t.seed for t in tasks],
                        workdirs=[trial.workdir for trial in trials],
                        on_epoch=writer.on_epoch if writer else lambda i, record: trials[i].on_epoch(record),
                        on_result=writer.finish if writer else lambda i, result: trials[i].finish(result),
                        should_stop=ctx.should_stop, settings=ctx.settings,
                        data_fingerprints=[t.data_fingerprint for t in tasks],
                        checkpoint_writer=writer.checkpoint if writer else None,
                        on_note=writer.note if writer else lambda text: ctx.events.emit(stack_note(len(tasks),
                                                                                                   text)))
            if writer is not None:
                writer.close()  # everything handed over is written (or its error raised here)
        except (UserError, KeyboardInterrupt, OutputClosed) as exc:  # not the trials' fault: resumable
            if writer is not None:
                writer.close(raise_error=False)
            for trial in trials:
                if not trial.ended:
                    trial.release(exc)
            raise
        except Exception as exc:  # a bug in the stack: record nothing as failed, retrain the rest one by one
            if writer is not None:
                writer.close(raise_error=False)
            rest = [trial.task for trial in trials if not trial.ended]
            end_run_on_environment_fault(exc, ctx.store, [t.key for t in rest], ctx.owner)
            ctx.events.emit({"event": "vectorized_fallback", "trials": len(rest),
                             "error": traceback.format_exc(limit=-4)})
    for task in rest:
        ctx.store.reset_trials([task.key])
        shutil.rmtree(ctx.store.trial_dir(task.key), ignore_errors=True)
        if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
            train_claimed(task, ctx)
