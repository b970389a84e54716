"""Running a search study (design = "search"): the runner's one entry is `SearchRun`.

    search = SearchRun(study, store)        # the search as the store holds it
    plan = search.plan()                    # what to register now
    search.run(executor, ctx, flag, poll_every, train_until_done)

A run first trains the searched configurations a killed run left unfinished, then asks the Optuna
study (hyperlab.search.SearchDriver) for `--workers` configurations at a time (an executor with a
`parallelism(ctx)` method, such as Ray's, says how many itself), registers them (so a
SIGKILL never loses or repeats one), stores an over-budget one as `infeasible` without training it,
and trains the rest; once `search.trials` configurations are stored, it trains the confirmation
stage (the best configurations and the baseline with matched seeds) like any study's trials.

With a pruner, each searched trial is trained by a `PruningExecutor`: after every epoch (committed
to the store first) it asks hyperlab.search.should_prune, which rebuilds the pruner's view from the
store, so the decision is the same in any process. `--workers N` runs it in each worker process
(ProcessExecutor.pruning); the stacked (vectorized) path cannot stop one trial of a group yet, so
pruned searches train their trials one at a time in each process (said once as a `search_note`
event). Without a pruner, each batch goes to the run's executor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import optuna

from hyperlab.runner import register
from hyperlab.runner.executor import Executor, LocalExecutor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag
from hyperlab.runner.trial import record_outcome, train_claimed
from hyperlab.runner.workers import ProcessExecutor
from hyperlab.search import Entry, PruneRule, SearchDriver, describe_search
from hyperlab.spec import StudySpec
from hyperlab.store import Store

TrainUntilDone = Callable[[Store, list[TrialTask], Executor, RunContext, StopFlag, float], None]


class SearchRun:
    """One run's work on a search study."""

    def __init__(self, study: StudySpec, store: Store) -> None:
        self.study, self.store = study, store
        self.driver = SearchDriver.load(study, store)
        self.confirming = False

    def plan(self):  # -> hyperlab.plan.Plan
        """What the store should hold for this study now."""
        return self.driver.plan(confirm=self.confirming or self._search_done())

    def _search_done(self) -> bool:
        return self.driver.remaining == 0 and not self.driver.unfinished()

    def _register(self) -> None:
        plan = self.plan()
        self.store.register_study(register.study_row(self.study, plan), register.variant_rows(plan),
                                  register.trial_rows(plan))

    def run(self, executor: Executor, ctx: RunContext, flag: StopFlag, poll_every: float,
            train_until_done: TrainUntilDone) -> None:
        """Search until `search.trials` configurations are stored, then confirm (unless stopped)."""
        driver = self.driver
        for entry in driver.entries:  # as the store holds them now (after a --rerun or --retry-failed)
            driver.refresh(entry, self.store)
        ctx.events.emit({"event": "search_note", "message": (
            f"{describe_search(self.study)}; {len(driver.entries)} configurations stored, "
            f"{driver.remaining} to propose")})
        pruning = driver.search.pruner != "none"
        if pruning and not isinstance(executor, ProcessExecutor | LocalExecutor):
            ctx.events.emit({"event": "search_note", "message": (
                "searched trials train one at a time in this process (not stacked): the stacked path "
                "cannot stop one trial of a group for the pruner yet; the confirmation stage uses the "
                "run's executor")})
        elif pruning and isinstance(executor, ProcessExecutor):
            ctx.events.emit({"event": "search_note", "message": (
                f"{executor.workers} worker processes train the searched trials, one trial at a time "
                f"each (not stacked), deciding to prune from the store after every epoch")})
        unfinished = driver.unfinished()
        if unfinished:
            self._train([(driver.resume(e), e) for e in unfinished], executor, ctx, flag, poll_every,
                        train_until_done)
        while driver.remaining and not flag():
            width = executor.parallelism(ctx) if hasattr(executor, "parallelism") else ctx.settings.workers
            proposed = driver.propose(min(max(width, 1), driver.remaining))
            if not proposed:
                ctx.events.emit({"event": "search_note", "message": (
                    f"the sampler proposed only stored configurations {len(driver.entries)} times in a "
                    f"row: the space has no more distinct configurations; stopping at "
                    f"{len(driver.entries)} of {driver.search.trials}")})
                break
            self._register()
            self._train(proposed, executor, ctx, flag, poll_every, train_until_done)
        if flag() or driver.remaining or driver.unfinished():
            return
        self.confirming = True
        self._register()
        seeds = set(driver.confirm_seeds())
        tasks = [t for t in register.tasks(self.plan()) if t.seed in seeds]
        if tasks:
            train_until_done(self.store, tasks, executor, ctx, flag, poll_every)

    def _train(self, batch: list[tuple[optuna.trial.Trial, Entry]], executor: Executor, ctx: RunContext,
               flag: StopFlag, poll_every: float, train_until_done: TrainUntilDone) -> None:
        driver, store = self.driver, self.store
        for _, entry in batch:
            driver.refresh(entry, store)
            if not entry.budget_ok and not entry.finished:
                self._infeasible(entry, ctx)
        feasible = [(t, e) for t, e in batch if e.budget_ok and not e.finished]
        tasks = [self._task(e) for _, e in feasible]
        if driver.search.pruner != "none":
            rule = PruneRule.of(self.study)
            executor = (executor.pruning(rule) if isinstance(executor, ProcessExecutor)
                        else PruningExecutor(rule))
        train_until_done(store, tasks, executor, ctx, flag, poll_every)
        for trial, entry in batch:
            driver.refresh(entry, store)
            if entry.finished:
                driver.tell(trial, entry)

    def _task(self, entry: Entry) -> TrialTask:
        return TrialTask(entry.key, entry.variant, self.driver.seed, entry.config, entry.data_fingerprint)

    def _infeasible(self, entry: Entry, ctx: RunContext) -> None:
        """Store an over-budget configuration as `infeasible`, with the reason; it never trains."""
        task = self._task(entry)
        if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
            record_outcome(task, ctx, {"key": task.key, "variant": task.variant, "seed": task.seed},
                           outcome={"status": "infeasible", "params": entry.cost.params,
                                    "stop_reason": f"over budget: {entry.budget_reason}"})



class PruningExecutor:
    """One trial at a time in this process, each stopped when the study's pruner says so after an
    epoch (hyperlab.search.should_prune: decided from the store, so any process decides alike)."""

    def __init__(self, rule: PruneRule) -> None:
        self.rule = rule

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        for task in trials:
            if ctx.should_stop():
                return
            if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                train_pruned(task, ctx, self.rule)


def train_pruned(task: TrialTask, ctx: RunContext, rule: PruneRule) -> str:
    """Train one claimed trial, asking the pruner after each epoch; a pruned trial is stored as
    `pruned` with the epochs it trained. Returns the status stored (or "interrupted")."""
    watch = _PruneWatch(ctx, rule, task.key)
    should_stop = ctx.should_stop
    status = train_claimed(task, dataclasses.replace(
        ctx, store=_HoldPruned(ctx.store, task.key, watch), events=watch,
        should_stop=lambda: should_stop() or watch.pruned_at is not None))
    if status != "interrupted" or watch.pruned_at is None:
        return status
    reason = f"pruned at epoch {watch.pruned_at}: {watch.reason}"
    return record_outcome(task, ctx, {"key": task.key, "variant": task.variant, "seed": task.seed},
                          outcome={"status": "pruned", "epochs": ctx.store.epochs(task.key),
                                   "seconds": watch.seconds, "stop_reason": reason})


class _HoldPruned:
    """The store, except that a pruned trial's claim is kept when the engine's `interrupted` end
    would give it back: another process could otherwise claim and resume it before it is stored
    as `pruned`."""

    def __init__(self, store: Store, key: str, watch: _PruneWatch) -> None:
        self._store, self._key, self._watch = store, key, watch

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def release(self, key: str, owner, status: str = "interrupted", error: str | None = None) -> bool:
        if key == self._key and status == "interrupted" and self._watch.pruned_at is not None:
            return True  # still ours: record_outcome stores it as pruned next
        return self._store.release(key, owner, status, error)


class _PruneWatch:
    """Passes a trial's events on, asking the pruner after each of its epochs (the epoch is in the
    store by then); when the pruner says stop it remembers the epoch, and hides the engine's
    `interrupted` end (stored as `pruned`)."""

    def __init__(self, ctx: RunContext, rule: PruneRule, key: str) -> None:
        self.sink, self.store, self.rule, self.key = ctx.events, ctx.store, rule, key
        self.pruned_at: int | None = None
        self.reason = ""
        self.seconds: float | None = None

    def emit(self, event: dict) -> None:
        if event.get("key") == self.key:
            if event.get("event") == "epoch":
                record = {**(event.get("metrics") or {}), "epoch": int(event["epoch"])}
                why = self.rule.reason(self.store, self.key, record)
                if why is not None:
                    self.pruned_at, self.reason = record["epoch"], why
            elif event.get("event") == "trial_finished" and self.pruned_at is not None:
                self.seconds = event.get("seconds")
                return  # announced as `pruned` once stored
        self.sink.emit(event)

    def close(self) -> None:
        pass
