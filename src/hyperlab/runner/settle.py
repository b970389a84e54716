"""Seeds until settled (`seeds = { min, max, target }`): the runner's side, shaped as a proposer.

    settling = SeedsUntilSettled(study, plan, store, decide)   # state rebuilt from the store
    plan = settling.plan()                                     # the study's plan + the seeds added so far
    settling.run(executor, ctx, flag, poll_every, train_until_done)

`run` trains what is registered, then loops: `propose()` reads every trial's primary metric from the
store and asks `decide` (hyperlab.analysis.settle.next_seeds, passed in by the API: the runner
imports no analysis) which (variant, seed) to add; `tell(additions)` records each with its reason in
the store (`Store.add_seeds`, before registering, so a run killed in between registers them on
resume) and registers the new trials; they are trained like any others. It ends when `decide` asks
for nothing (every comparison settled or at `max`). Everything is rebuilt from the store, so a killed
run resumes where it stopped and makes the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from hyperlab.plan import Plan, PlannedTrial
from hyperlab.plan.keys import trial_key
from hyperlab.runner import register
from hyperlab.runner.executor import Executor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag
from hyperlab.store import Store

USABLE = ("completed", "early_stopped")
TrainUntilDone = Callable[[Store, list[TrialTask], Executor, RunContext, StopFlag, float], None]


class Addition(Protocol):
    variant: str
    seed: int
    reason: str


Decide = Callable[..., Sequence[Addition]]
"""`decide(values, baseline, minimum=, maximum=, target=, percent=)` -> the additions to make now
(hyperlab.analysis.settle.next_seeds)."""


class SeedsUntilSettled:
    """A study's seeds-until-settled loop over the store (see the module docstring)."""

    def __init__(self, study: Any, plan: Plan, store: Store, decide: Decide | None) -> None:
        self.study, self.base, self.store, self.decide = study, plan, store, decide
        self.rule = study.seed_rule
        self.baseline = next((v.name for v in plan.variants if v.is_baseline), plan.variants[0].name)
        self.percent = True  # the primary metric is an accuracy (target in points); values() finds out

    def plan(self) -> Plan:
        """The study's plan plus one trial per seed added so far (as the store records them)."""
        variants = {v.name: v for v in self.base.variants}
        fingerprints = {t.variant: t.data_fingerprint for t in self.base.trials}
        planned = {(t.variant, t.seed) for t in self.base.trials}
        extra = []
        for row in self.store.seed_additions(self.study.name):
            v, seed = variants.get(row["variant"]), int(row["seed"])
            if v is None or (v.name, seed) in planned:
                continue  # a variant the study file no longer has
            planned.add((v.name, seed))
            data = fingerprints.get(v.name)
            extra.append(PlannedTrial(trial_key(v.config, seed, data), v.name, v.factor, v.level, seed,
                                      v.config, v.budget_ok, v.budget_reason, v.is_baseline, data))
        seeds = sorted({*self.base.seeds, *(t.seed for t in extra)})
        return Plan(self.base.study, self.base.variants, [*self.base.trials, *extra], seeds)

    def values(self) -> dict[str, dict[int, float | None]]:
        """variant -> {seed: primary metric (best validation accuracy, or loss for regression), None
        when the trial gave no usable value} over the trials within budget."""
        out: dict[str, dict[int, float | None]] = {}
        for trial in self.plan().trials:
            if not trial.budget_ok:
                continue
            row = self.store.trial(trial.key)
            value = None
            if row is not None and row["status"] in USABLE:
                value, self.percent = primary_value(self.store.epochs(trial.key))
            out.setdefault(trial.variant, {})[int(trial.seed)] = value
        return out

    def propose(self, n: int | None = None) -> list[Addition]:
        """The (variant, seed) additions the rule asks for now (at most `n`; none without a rule)."""
        if self.decide is None:
            return []
        values = self.values()
        found = list(self.decide(values, self.baseline, minimum=self.rule.min, maximum=self.rule.max,
                                 target=self.rule.target, percent=self.percent))
        return found if n is None else found[:n]

    def tell(self, additions: Sequence[Addition], ctx: RunContext | None = None) -> None:
        """Record the additions with their reasons, then register their trials."""
        self.store.add_seeds(self.study.name, [(a.variant, int(a.seed), a.reason) for a in additions])
        plan = self.plan()
        self.store.register_study(register.study_row(self.study, plan), register.variant_rows(plan),
                                  register.trial_rows(plan))
        for a in additions:
            if ctx is not None:
                ctx.events.emit({"event": "seeds_added", "variant": a.variant, "seed": int(a.seed),
                                 "reason": a.reason})

    def run(self, executor: Executor, ctx: RunContext, flag: StopFlag, poll_every: float,
            train_until_done: TrainUntilDone) -> None:
        """Train what is registered; add seeds where the rule asks; repeat until it asks for none."""
        if self.decide is None:
            ctx.events.emit({"event": "search_note", "message": (
                "seeds = { min, max, target }: no settling rule was given to the runner, so only the "
                f"first {self.rule.min} seeds are trained (hyperlab.Study.run passes it)")})
        while not flag():
            train_until_done(self.store, register.tasks(self.plan()), executor, ctx, flag, poll_every)
            if flag():
                return
            additions = self.propose()
            if not additions:
                return
            self.tell(additions, ctx)


def primary_value(epochs: Sequence[Mapping[str, Any]]) -> tuple[float | None, bool]:
    """(best validation accuracy, True), or (lowest validation loss, False) when there is no accuracy;
    None when no finite value was recorded (the report's primary metric, docs/report.md)."""
    accuracies = _finite([e.get("val_accuracy") for e in epochs])
    if accuracies:
        return max(accuracies), True
    losses = _finite([e.get("val_loss") for e in epochs])
    return (min(losses) if losses else None), False


def _finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
