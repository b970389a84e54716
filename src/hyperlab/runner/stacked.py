"""`VectorizedExecutor`: the runner's executor that trains compatible trials as one stack
(hyperlab.vectorized.train_group), claiming and storing each trial as `train_claimed` does.

It implements the runner's `Executor` protocol (`run(trials, ctx)`): trials are grouped with
`group_trials` (same seed, so each group shares its batches: the paired design), every trial is
claimed in the store before it trains, each one's epochs and outcome are stored as they happen,
exactly as `hyperlab.runner.trial.train_claimed` stores them. A group of one, a trial that cannot be
vectorized, and a trial with stored epochs (it resumes from its checkpoint) go to the engine.
"""

from __future__ import annotations

import shutil
import threading
import traceback
from collections.abc import Sequence
from typing import Any

from hyperlab.errors import UserError
from hyperlab.runner.events import OutputClosed
from hyperlab.runner.trial import record_outcome, train_claimed
from hyperlab.store import LostClaimError, Store
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

    def run(self, trials: Sequence[Any], ctx: Any) -> None:
        groups = group_trials(list(trials), lambda t: t.config, seed_of=lambda t: t.seed,
                              max_group=self.max_group, device=ctx.settings.device)
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


def _train_claimed_group(tasks: list[Any], ctx: Any) -> None:
    """Train claimed, never-started `tasks` as one stack, storing as `train_claimed` does."""
    store, owner = ctx.store, ctx.owner
    configs = [t.config for t in tasks]
    workdirs = [store.trial_dir(t.key) for t in tasks]
    for workdir in workdirs:  # no stored epoch: whatever is there is a leftover (see train_claimed)
        shutil.rmtree(workdir, ignore_errors=True)
    where = [{"key": t.key, "variant": t.variant, "seed": t.seed} for t in tasks]
    for task, w in zip(tasks, where, strict=True):
        ctx.events.emit({"event": "trial_started", **w, "epochs": task.epochs, "resumed_from": 0,
                         "vectorized": len(tasks)})
    done: set[int] = set()
    lost: set[int] = set()

    def on_epoch(i: int, record: dict) -> None:
        if i in lost:
            return
        try:
            store.record_epoch(tasks[i].key, owner, record)
        except LostClaimError:
            lost.add(i)
            return
        ctx.events.emit({"event": "epoch", **where[i], "epoch": int(record["epoch"]),
                         "epochs": tasks[i].epochs,
                         "metrics": record})

    def on_result(i: int, result: Any) -> None:
        done.add(i)
        if i in lost:
            ctx.events.emit({"event": "trial_finished", **where[i], "status": "lost",
                             "error": "another runner reclaimed this trial"})
            return
        outcome = result.to_dict()
        if outcome["status"] == "interrupted":
            store.release(tasks[i].key, owner, "interrupted")
            ctx.events.emit({"event": "trial_finished", **where[i], "status": "interrupted",
                             "seconds": outcome.get("seconds"), "stop_reason": outcome.get("stop_reason")})
            return
        record_outcome(tasks[i], ctx, where[i], outcome=outcome)

    heartbeat = _Heartbeat(ctx, [t.key for t in tasks])
    try:
        train_group(configs, [t.seed for t in tasks], workdirs=workdirs, on_epoch=on_epoch,
                    on_result=on_result, should_stop=ctx.should_stop, settings=ctx.settings,
                    data_fingerprints=[t.data_fingerprint for t in tasks])
    except (UserError, KeyboardInterrupt, OutputClosed) as exc:  # not the trials' fault: resumable
        for i, task in enumerate(tasks):
            if i not in done:
                status = "pending" if isinstance(exc, UserError) else "interrupted"
                store.release(task.key, owner, status)
        raise
    except Exception as exc:  # a bug in the stack: record nothing as failed, retrain the rest one by one
        from hyperlab.faults import end_run_on_environment_fault  # a full disk is no bug: end the run

        end_run_on_environment_fault(exc, store, [t.key for i, t in enumerate(tasks) if i not in done], owner)
        ctx.events.emit({"event": "vectorized_fallback", "trials": len(tasks) - len(done),
                         "error": traceback.format_exc(limit=-4)})
        for i, task in enumerate(tasks):
            if i not in done:
                store.reset_trials([task.key])
                shutil.rmtree(store.trial_dir(task.key), ignore_errors=True)
                if store.claim(task.key, owner, stale_after=ctx.stale_after):
                    train_claimed(task, ctx)
    finally:
        heartbeat.stop()


class _Heartbeat:
    """Keeps every trial of the group alive in the store while the group trains (one thread)."""

    def __init__(self, ctx: Any, keys: list[str]) -> None:
        self._stop = threading.Event()
        args = (ctx.store.workspace, keys, ctx.owner, ctx.heartbeat_every)
        self._thread = threading.Thread(target=self._beat, args=args, daemon=True)
        self._thread.start()

    def _beat(self, workspace: Any, keys: list[str], owner: Any, every: float) -> None:
        store = None
        try:
            while not self._stop.wait(every):
                store = store or Store.open(workspace, create=False)  # a connection of this thread
                for key in keys:
                    store.heartbeat(key, owner)
        finally:
            if store is not None:
                store.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
