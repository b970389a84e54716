"""Whether to prune a searched trial after an epoch, decided from the store alone (any process).

Every epoch of every trial is committed to the store as it ends, so the pruner's view can be rebuilt
wherever a trial trains (the runner's process, a `--workers` process, a stacked group's hook):
`should_prune(store, rule, key)` builds a fresh in-memory Optuna study with the study's pruner,
replays the other searched trials' per-epoch objective values in registration order (finished ones
end in the state the search driver gives them; running ones stay running, as Optuna's own trials
would), then reports the trial's values and returns the pruner's answer for its last epoch.

Replaying the reports (rather than copying values) is what lets every Optuna pruner work unchanged:
ASHA and Hyperband keep their rung bookkeeping in each trial's system attributes, written while a
trial reports, and those depend only on the trial's own values. So two processes asking about the
same stored state get the same answer, and a resumed search prunes as an uninterrupted one would.

    rule = PruneRule.of(study)                      # JSON-able: goes to worker processes as is
    stop = should_prune(store, rule, key)           # after the trial's epoch is committed
    hook = rule.hook(store)                         # hook(key, epoch, metrics) -> bool
    why = rule.reason(store, key, record)           # "val_accuracy 0.1 (asha pruner)" or None
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import optuna

from hyperlab.search.pruners import make_pruner
from hyperlab.spec import StudySpec
from hyperlab.store import Store

RESULT_STATUSES = ("completed", "early_stopped")  # trials that end with a value (as the driver's)
PruneHook = Callable[[str, int, Mapping[str, Any]], bool]  # (trial key, epoch, epoch record) -> stop


@dataclass(frozen=True)
class PruneRule:
    """What a prune decision needs to know about a search study (plain data: JSON to workers)."""

    study: str  # the study's name in the store
    seed: int  # the search seed: searched trials are the study's trials at this seed
    objective: str
    maximize: bool
    pruner: str  # hyperlab.search.PRUNERS
    epochs: int  # the most a trial trains (Hyperband's max resource)

    @classmethod
    def of(cls, study: StudySpec) -> PruneRule:
        search = study.search
        assert search is not None, "a search study has a [search] table"
        return cls(study.name, study.seed_list[0], search.objective, search.maximize, search.pruner,
                   study.train.epochs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PruneRule:
        return cls(**data)

    def reason(self, store: Store, key: str, record: Mapping[str, Any]) -> str | None:
        """Why trial `key` stops after the epoch of `record` (its epoch record), or None to go on:
        the form of a per-trial prune hook that returns the stop reason ("val_accuracy 0.1 (asha
        pruner)"; the caller prefixes "pruned at epoch E: ")."""
        value = record.get(self.objective)
        if not self.hook(store)(key, int(record["epoch"]), record):
            return None
        shown = f"{float(value):.4g}" if _finite(value) else "not finite"
        return f"{self.objective} {shown} ({self.pruner} pruner)"

    def hook(self, store: Store) -> PruneHook:
        """`should_prune` as a per-trial stop hook: (key, epoch, epoch record) -> True to stop.
        The epoch record's objective is used even if the store does not have that epoch yet."""

        def stop(key: str, epoch: int, metrics: Mapping[str, Any]) -> bool:
            value = metrics.get(self.objective)
            extra = {int(epoch): float(value)} if _finite(value) else {}
            return should_prune(store, self, key, extra)

        return stop


def should_prune(store: Store, rule: PruneRule, key: str, latest: Mapping[int, float] | None = None) -> bool:
    """True when the study's pruner stops trial `key` after its last epoch: the one the store holds,
    or the last of `latest` (epoch -> objective, added to what the store holds)."""
    if rule.pruner == "none":
        return False
    mine = {**objective_values(store, key, rule.objective), **(latest or {})}
    if not mine:
        return False
    # A fixed study name: Hyperband assigns brackets by a hash of the study's name and trial number.
    study = optuna.create_study(study_name=rule.study, direction="maximize" if rule.maximize else "minimize",
                                sampler=optuna.samplers.RandomSampler(seed=0),
                                pruner=make_pruner(rule.pruner, rule.epochs))
    current: optuna.trial.Trial | None = None
    for other in searched_keys(store, rule):
        if other == key:  # asked in its place (its trial number), reported last: it is the live one
            current = study.ask()
            continue
        # Every registered trial is asked, trained or not, so trial numbers are registration order.
        row = store.trial(other)
        values = objective_values(store, other, rule.objective)
        trial = study.ask()
        _replay(trial, values)
        _end(study, trial, row["status"] if row else "pending", values, store, other, rule)
    return _replay(current if current is not None else study.ask(), mine)


def searched_keys(store: Store, rule: PruneRule) -> list[str]:
    """The study's searched trials (its search seed, not the baseline), in registration order."""
    rows = store.study_trials(rule.study) if store.study(rule.study) is not None else []
    return [r["key"] for r in rows if r["seed"] == rule.seed and r["variant"] != "baseline"]


def objective_values(store: Store, key: str, objective: str) -> dict[int, float]:
    """epoch -> the objective, for the epochs the store holds of trial `key` (finite values only)."""
    return {int(r["epoch"]): float(r[objective]) for r in store.epochs(key) if _finite(r.get(objective))}


def _replay(trial: optuna.trial.Trial, values: Mapping[int, float]) -> bool:
    """Report `values` in epoch order, asking the pruner after each as a live trial does; the answer
    after the last one."""
    stop = False
    for epoch in sorted(values):
        trial.report(values[epoch], epoch)
        stop = trial.should_prune()
    return stop


def _end(study: optuna.Study, trial: optuna.trial.Trial, status: str, values: Mapping[int, float],
         store: Store, key: str, rule: PruneRule) -> None:
    """End a replayed trial as the search ended it (running trials stay running)."""
    TrialState = optuna.trial.TrialState
    if status in RESULT_STATUSES:
        final = (store.final(key) or {}).get(rule.objective)
        value = float(final) if _finite(final) else (values[max(values)] if values else None)
        if value is not None:
            study.tell(trial, value)
            return
        study.tell(trial, state=TrialState.FAIL)
    elif status == "pruned":
        study.tell(trial, state=TrialState.PRUNED)
    elif status in ("failed", "diverged", "infeasible", "lost"):
        study.tell(trial, state=TrialState.FAIL)
    # pending, running, interrupted: still training (or to resume); their reports stand


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
