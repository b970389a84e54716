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

With a pruner, searched trials train one at a time in this process through the engine's per-epoch
callback (the pruner lives in this process's Optuna study); the stacked (vectorized) path and
worker processes cannot report per-trial values to it yet, so they are declined for that stage
(said once as a `search_note` event). Without a pruner, each batch goes to the run's executor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import optuna

from hyperlab.runner import register
from hyperlab.runner.executor import Executor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag
from hyperlab.runner.trial import record_outcome, train_claimed
from hyperlab.search import Entry, SearchDriver, describe_search
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
        if pruning and (ctx.settings.workers > 1 or ctx.settings.executor != "local"):
            ctx.events.emit({"event": "search_note", "message": (
                "searched trials train one at a time in this process: the pruner needs each trial's "
                "per-epoch values, which the stacked path and worker processes cannot report yet; "
                "the confirmation stage uses the run's executor")})
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
        if driver.search.pruner == "none":
            train_until_done(store, [self._task(e) for _, e in feasible], executor, ctx, flag, poll_every)
        else:
            for trial, entry in feasible:
                while not flag():
                    self._train_pruned(trial, entry, ctx, flag)
                    driver.refresh(entry, store)
                    if entry.finished:
                        break
                    flag.wait(poll_every)  # another live runner has it: wait for its outcome
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

    def _train_pruned(self, trial: optuna.trial.Trial, entry: Entry, ctx: RunContext, flag: StopFlag) -> None:
        """Train one claimed trial, reporting its objective to the pruner after each epoch; a pruned
        trial is stored as `pruned` with the epochs it trained."""
        task = self._task(entry)
        if not ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
            return
        watch = _PruneWatch(ctx.events, self.driver, trial, task.key)
        status = train_claimed(task, dataclasses.replace(
            ctx, events=watch, should_stop=lambda: flag() or watch.pruned_at is not None))
        if status != "interrupted" or watch.pruned_at is None:
            return
        if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):  # released by the engine
            objective = self.driver.search.objective
            reason = (f"pruned at epoch {watch.pruned_at}: {objective} {watch.value:.4g} "
                      f"({self.driver.search.pruner} pruner)")
            record_outcome(task, ctx, {"key": task.key, "variant": task.variant, "seed": task.seed},
                           outcome={"status": "pruned", "epochs": ctx.store.epochs(task.key),
                                    "seconds": watch.seconds, "stop_reason": reason})


class _PruneWatch:
    """Passes a trial's events on, reporting its objective to Optuna after each epoch; when the pruner
    says stop it remembers the epoch, and hides the engine's `interrupted` end (stored as `pruned`)."""

    def __init__(self, sink, driver: SearchDriver, trial: optuna.trial.Trial, key: str) -> None:
        self.sink, self.driver, self.trial, self.key = sink, driver, trial, key
        self.pruned_at: int | None = None
        self.value = float("nan")
        self.seconds: float | None = None

    def emit(self, event: dict) -> None:
        if event.get("key") == self.key:
            if event.get("event") == "epoch":
                value = (event.get("metrics") or {}).get(self.driver.search.objective)
                epoch = int(event["epoch"])
                if isinstance(value, int | float) and self.driver.report(self.trial, epoch, value):
                    self.pruned_at, self.value = int(event["epoch"]), float(value)
            elif event.get("event") == "trial_finished" and self.pruned_at is not None:
                self.seconds = event.get("seconds")
                return  # announced as `pruned` once stored
        self.sink.emit(event)

    def close(self) -> None:
        pass
