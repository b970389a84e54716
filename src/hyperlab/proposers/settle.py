"""Seeds until settled (`seeds = { min, max, target }`): a proposer over a fixed design's plan.

    settling = SeedsUntilSettled(study, store, plan, decide)   # state rebuilt from the store
    settling.plan()         # the study's plan + the seeds added so far (as the store records them)
    settling.propose(n)     # first: every registered trial; then the seeds `decide` asks for

The first `propose` returns every trial of the plan (a resumed run trains what a killed one left).
Each later one reads every trial's primary metric from the store and asks `decide`
(hyperlab.analysis.settle.next_seeds, passed in by the API: the proposers import no analysis) which
(variant, seed) to add; it records each with its reason (`Store.add_seeds`, before the runner
registers them, so a run killed in between registers them on resume) and proposes their trials,
trained like any others. It ends when `decide` asks for nothing (every comparison settled or at
`max`). Everything is rebuilt from the store, so a killed run resumes and makes the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from hyperlab.plan import Plan, PlannedTrial, TrialTask, make_plan, tasks_of
from hyperlab.plan.keys import trial_key
from hyperlab.store import Store

USABLE = ("completed", "early_stopped")


class Addition(Protocol):
    variant: str
    seed: int
    reason: str


Decide = Callable[..., Sequence[Addition]]
"""`decide(values, baseline, minimum=, maximum=, target=, percent=)` -> the additions to make now
(hyperlab.analysis.settle.next_seeds)."""


class SeedsUntilSettled:
    """A fixed design's proposer that adds matched seeds until each comparison settles."""

    fixed_plan = False  # the plan grows with the seeds it adds

    def __init__(self, study: Any, store: Store | None, plan: Plan | None = None,
                 decide: Decide | None = None) -> None:
        self.study, self.store, self.decide = study, store, decide
        self.base = plan if plan is not None else make_plan(study)
        self.rule = study.seed_rule
        self.baseline = next((v.name for v in self.base.variants if v.is_baseline),
                             self.base.variants[0].name)
        self.percent = True  # the primary metric is an accuracy (target in points); values() finds out
        self.notes: list[str | dict] = []
        self._started = False

    @staticmethod
    def describe(study: Any) -> str | None:
        rule = study.seed_rule
        return (f"seeds until settled: {rule.min} to {rule.max} matched seeds per variant, until the "
                f"primary comparison's CI half-width is at most {rule.target:g}")

    def plan(self) -> Plan:
        """The study's plan plus one trial per seed added so far (as the store records them)."""
        additions = self.store.seed_additions(self.study.name) if self.store is not None else []
        variants = {v.name: v for v in self.base.variants}
        fingerprints = {t.variant: t.data_fingerprint for t in self.base.trials}
        planned = {(t.variant, t.seed) for t in self.base.trials}
        extra = []
        for row in additions:
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

    def propose(self, n: int) -> list[TrialTask]:  # noqa: ARG002 - the rule decides how many
        if not self._started:
            self._started = True
            if self.decide is None:
                self.notes.append(
                    "seeds = { min, max, target }: no settling rule was given to the runner, so only the "
                    f"first {self.rule.min} seeds are trained (hyperlab.Study.run passes it)")
            return tasks_of(self.plan())
        if self.decide is None or self.store is None:
            return []
        planned = {(t.variant, int(t.seed)) for t in self.plan().trials}
        additions = [a for a in self.decide(self.values(), self.baseline, minimum=self.rule.min,
                                            maximum=self.rule.max, target=self.rule.target,
                                            percent=self.percent)
                     if (a.variant, int(a.seed)) not in planned]  # a seed asked for again: no new work
        if not additions:
            return []
        self.store.add_seeds(self.study.name, [(a.variant, int(a.seed), a.reason) for a in additions])
        for a in additions:
            self.notes.append({"event": "seeds_added", "variant": a.variant, "seed": int(a.seed),
                               "reason": a.reason})
        wanted = {(a.variant, int(a.seed)) for a in additions}
        return [t for t in tasks_of(self.plan()) if (t.variant, t.seed) in wanted]

    def tell(self, task: TrialTask, status: str) -> None:
        """Outcomes are read back from the store when the next seeds are decided."""

    def infeasible(self, task: TrialTask) -> dict[str, Any] | None:
        return None

    def prune_rule(self, task: TrialTask) -> Any:
        return None


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
