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

With a pruner, searched trials are trained with the run's prune hook (`RunContext.prune`, asked
after every epoch once it is committed to the store) set to hyperlab.search.PruneRule.reason, which
rebuilds the pruner's view from the store, so the decision is the same in any process: the run's
executor trains them as it trains any trial (stacked by the vectorized executor, a pruned trial
leaving its stack; one at a time by the local one), and `--workers N` processes build the same hook
in their own process (ProcessExecutor.pruning). An executor that cannot honour the hook (Ray: its
trials train on remote nodes) leaves the searched trials to this process, one at a time (said once
as a `search_note` event). The confirmation stage is never pruned. In a stack, the pruner sees the
stack's trials epoch by epoch side by side rather than one trial after another, so a pruner that
compares a trial with the others (median, ASHA) may decide differently than one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import optuna

from hyperlab.runner import register
from hyperlab.runner.executor import Executor, LocalExecutor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag
from hyperlab.runner.stacked import VectorizedExecutor
from hyperlab.runner.trial import record_outcome
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
        searching, search_ctx = self._searching(executor, ctx)
        unfinished = driver.unfinished()
        if unfinished:
            self._train([(driver.resume(e), e) for e in unfinished], searching, search_ctx, flag, poll_every,
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
            self._train(proposed, searching, search_ctx, flag, poll_every, train_until_done)
        if flag() or driver.remaining or driver.unfinished():
            return
        self.confirming = True
        self._register()
        seeds = set(driver.confirm_seeds())
        tasks = [t for t in register.tasks(self.plan()) if t.seed in seeds]
        if tasks:  # the run's executor and context: the confirmation stage is never pruned
            train_until_done(self.store, tasks, executor, ctx, flag, poll_every)

    def _searching(self, executor: Executor, ctx: RunContext) -> tuple[Executor, RunContext]:
        """The executor and context that train the searched trials: with a pruner, the context's
        prune hook asks the study's pruner (decided from the store) after every epoch."""
        if self.driver.search.pruner == "none":
            return executor, ctx
        rule = PruneRule.of(self.study)
        if isinstance(executor, ProcessExecutor):  # each worker builds the same hook in its own process
            how = "stacked where compatible" if executor.vectorize else "one trial at a time each"
            ctx.events.emit({"event": "search_note", "message": (
                f"{executor.workers} worker processes train the searched trials ({how}), deciding to "
                f"prune from the store after every epoch")})
            return executor.pruning(rule), ctx
        store = ctx.store
        pruned_ctx = dataclasses.replace(ctx, prune=lambda task, record: rule.reason(store, task.key, record))
        if isinstance(executor, LocalExecutor | VectorizedExecutor):
            return executor, pruned_ctx
        ctx.events.emit({"event": "search_note", "message": (
            f"searched trials train one at a time in this process: {type(executor).__name__} cannot "
            f"stop a trial for the pruner; the confirmation stage uses the run's executor")})
        return LocalExecutor(), pruned_ctx

    def _train(self, batch: list[tuple[optuna.trial.Trial, Entry]], executor: Executor, ctx: RunContext,
               flag: StopFlag, poll_every: float, train_until_done: TrainUntilDone) -> None:
        driver, store = self.driver, self.store
        for _, entry in batch:
            driver.refresh(entry, store)
            if not entry.budget_ok and not entry.finished:
                self._infeasible(entry, ctx)
        feasible = [(t, e) for t, e in batch if e.budget_ok and not e.finished]
        tasks = [self._task(e) for _, e in feasible]
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
