"""The search's state, rebuilt from the store on every run, and the configurations to train next.

The store is the one source of truth: `SearchDriver.load(store)` reads the study's searched trials
(registration order), and `optuna_study()` replays them into an in-memory Optuna study: completed
trials with their value, pruned ones with their per-epoch values, and failed, diverged or
infeasible ones as a penalty value with a constraint violation (`Trial.set_constraint`), so the
sampler learns to avoid them. `propose(n)` asks for n new configurations that are neither stored
nor already proposed; a stored trial is never trained twice, and a resumed search ends with exactly
`search.trials` configurations. The sampler is seeded from the study's seed and the number of
trials already stored: one process running a study to completion gives the same configurations
every time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import optuna

from hyperlab.data.fingerprint import data_fingerprint
from hyperlab.engine import TrialConfig
from hyperlab.plan.cost import Cost, variant_cost
from hyperlab.plan.keys import trial_key
from hyperlab.plan.make import Plan, PlannedTrial, Variant, budget_verdict, make_plan
from hyperlab.search.prune import RESULT_STATUSES
from hyperlab.search.pruners import make_pruner
from hyperlab.search.samplers import CONSTRAINED, make_sampler
from hyperlab.search.space import distributions
from hyperlab.spec import SearchSpace, StudySpec, search_space
from hyperlab.store import Store

VIOLATION = "budget or failure"  # the one constraint: > 0 for infeasible, failed and diverged trials
MAX_DUPLICATE_ASKS = 50  # proposals of stored configurations in a row before the space counts as used up
optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class Entry:
    """One searched configuration: where it sits in the search and what became of it."""

    number: int  # 0-based order in the search
    variant: str  # "f1=v1, f2=v2" (grid-point style: one label per factor)
    key: str
    config: TrialConfig
    values: dict[str, Any]  # factor name -> sampled number or choice label
    cost: Cost
    budget_ok: bool
    budget_reason: str | None
    data_fingerprint: str | None = None  # part of the trial's key (hyperlab.data.fingerprint)
    estimated_seconds: float | None = None  # training time estimated when proposed (max_seconds)
    status: str = "pending"
    value: float | None = None  # the objective at the trial's end (completed, early_stopped)
    intermediate: dict[int, float] = field(default_factory=dict)  # epoch -> objective (pruning)

    @property
    def finished(self) -> bool:
        return self.status not in ("pending", "running", "interrupted")


class SearchDriver:
    """A search study's space, its stored trials, and the Optuna study that proposes the next ones."""

    def __init__(self, study: StudySpec, space: SearchSpace | None = None) -> None:
        assert study.search is not None, "a search study has a [search] table (checked by the spec)"
        self.study, self.search = study, study.search
        if space is None:
            space, problems = search_space(study)
            assert space is not None, problems  # load_study reported them
        self.space = space
        self.base_plan = make_plan(study)  # the baseline, costed and keyed
        self.seed = study.seed_list[0]  # every searched configuration trains with this seed
        self.entries: list[Entry] = []
        self._fingerprints: dict[str, str] = {}
        self._optuna: optuna.Study | None = None

    # --- the stored search ---------------------------------------------------------------------
    @classmethod
    def load(cls, study: StudySpec, store: Store) -> SearchDriver:
        """The driver with the study's searched trials as the store holds them."""
        driver = cls(study)
        known = store.study(study.name) is not None
        rows = store.study_trials(study.name) if known else []
        orders = {v["variant"]: v["order"] for v in store.variants(study.name)} if known else {}
        searched = sorted((r for r in rows if r["seed"] == driver.seed and r["variant"] != "baseline"),
                          key=lambda r: orders.get(r["variant"], 0))
        for row in searched:
            stored = store.trial(row["key"])
            config = TrialConfig.from_stored(stored["config"])
            entry = driver._entry(config, timed=False)  # the verdict was given when it was proposed
            driver.entries.append(entry)
            driver.refresh(entry, store)
            if entry.status == "infeasible" and entry.budget_ok:  # over max_seconds, as stored
                entry.budget_ok = False
                entry.budget_reason = (stored.get("stop_reason") or "").removeprefix("over budget: ") or None
        return driver

    def refresh(self, entry: Entry, store: Store) -> None:
        """Read an entry's status, value and per-epoch values from the store."""
        row = store.trial(entry.key)
        entry.status = row["status"] if row else "pending"
        objective = self.search.objective
        entry.intermediate = {int(r["epoch"]): float(r[objective]) for r in store.epochs(entry.key)
                              if _finite(r.get(objective))}
        entry.value = None
        if entry.status in RESULT_STATUSES:
            final = store.final(entry.key) or {}
            value = final.get(objective)
            if not _finite(value) and entry.intermediate:
                value = entry.intermediate[max(entry.intermediate)]
            entry.value = float(value) if _finite(value) else None

    def _entry(self, config: TrialConfig, timed: bool = True) -> Entry:
        """The entry of `config`; with `timed` and a max_seconds budget, its training time is
        estimated (hyperlab.plan.timing) only when its size is within budget (timing costs seconds)."""
        data_json = config.data.model_dump_json()
        if data_json not in self._fingerprints:
            self._fingerprints[data_json] = data_fingerprint(config.data)
        key = trial_key(config, self.seed, self._fingerprints[data_json])
        values = self.space.values_of(config)
        cost = variant_cost(config)
        ok, reason = budget_verdict(cost, self.study.budget)
        seconds = None
        budget = self.study.budget
        if timed and ok and budget is not None and budget.max_seconds is not None:
            from hyperlab.plan.timing import estimate_seconds  # times a few batches (torch)

            seconds = estimate_seconds(config, self.study.run_defaults()).seconds
            ok, reason = budget_verdict(cost, budget, seconds)
        return Entry(len(self.entries), self._name(values), key, config, values, cost, ok, reason,
                     self._fingerprints[data_json], seconds)

    def _name(self, values: dict[str, Any]) -> str:
        name = ", ".join(f"{n}={_label(v)}" for n, v in values.items())
        taken = {e.variant for e in self.entries}
        return name if name not in taken else f"{name} #{len(self.entries) + 1}"

    @property
    def remaining(self) -> int:
        return max(0, self.search.trials - len(self.entries))

    def unfinished(self) -> list[Entry]:
        return [e for e in self.entries if not e.finished]

    # --- Optuna ----------------------------------------------------------------------------------
    def optuna_study(self) -> optuna.Study:
        """The in-memory Optuna study: the finished entries replayed (built once per driver)."""
        if self._optuna is None:
            sampler = make_sampler(self.search.sampler, self.seed_for(len(self.entries)))
            pruner = make_pruner(self.search.pruner, self.study.train.epochs)
            direction = "maximize" if self.search.maximize else "minimize"
            self._optuna = optuna.create_study(direction=direction, sampler=sampler, pruner=pruner)
            for entry in self.entries:
                if entry.finished:
                    self._optuna.add_trial(self.frozen(entry))
        return self._optuna

    def seed_for(self, stored: int) -> int:
        """The sampler's seed once `stored` trials are stored: a pure function of the study file."""
        return (self.search.seed * 1_000_003 + stored) % (2**31)

    def frozen(self, entry: Entry) -> optuna.trial.FrozenTrial:
        """A finished entry as Optuna's record of a trial."""
        dists = distributions(self.space)
        state, value, violation = self.outcome(entry)
        return optuna.trial.create_trial(
            state=state, value=value, params=dict(entry.values), distributions=dists,
            intermediate_values=dict(entry.intermediate), constraints=self._constraints(violation),
            user_attrs={"hyperlab_key": entry.key, "status": entry.status})

    def outcome(self, entry: Entry) -> tuple[optuna.trial.TrialState, float | None, float]:
        """(state, value, constraint violation) Optuna is told for a finished entry."""
        TrialState = optuna.trial.TrialState
        if entry.status in RESULT_STATUSES and entry.value is not None:
            return TrialState.COMPLETE, entry.value, 0.0
        if entry.status == "pruned":
            return TrialState.PRUNED, None, 0.0
        if entry.status == "infeasible":
            return TrialState.COMPLETE, self.penalty(), self.over_budget(entry)
        return TrialState.COMPLETE, self.penalty(), 1.0  # failed, diverged: never the best

    def _constraints(self, violation: float) -> dict[str, float] | None:
        """The constraint values Optuna is given (only samplers that learn from them get any)."""
        return {VIOLATION: violation} if self.search.sampler in CONSTRAINED else None

    def penalty(self) -> float:
        """The value given to configurations without one: the worst value seen (or 0)."""
        values = [e.value for e in self.entries if e.value is not None]
        if not values:
            return 0.0
        return min(values) if self.search.maximize else max(values)

    def over_budget(self, entry: Entry) -> float:
        """How far over its tightest-violated limit an infeasible configuration is (> 0)."""
        budget = self.study.budget
        ratios = [value / limit - 1 for value, limit in (
            (entry.cost.params, budget and budget.max_params), (entry.cost.macs, budget and budget.max_macs),
            (entry.cost.flops, budget and budget.max_flops),
            (entry.estimated_seconds or 0.0, budget and budget.max_seconds)) if limit]
        return max([r for r in ratios if r > 0] or [1.0])

    def propose(self, n: int) -> list[tuple[optuna.trial.Trial, Entry]]:
        """Up to n new configurations (never a stored or already proposed one), each with the Optuna
        trial that asked for it. Fewer when the space is used up (only duplicates proposed)."""
        study, dists = self.optuna_study(), distributions(self.space)
        out: list[tuple[optuna.trial.Trial, Entry]] = []
        duplicates = 0
        while len(out) < n and duplicates < MAX_DUPLICATE_ASKS:
            trial = study.ask(dists)
            config = self.space.config(trial.params)
            entry = self._entry(config)
            same = next((e for e in self.entries if e.key == entry.key), None)
            if same is not None:  # the sampler proposed a known configuration: tell it what it got
                duplicates += 1
                if same.finished:
                    self.tell(trial, same)
                else:  # still to train (in this batch): no outcome yet, so nothing to learn from
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            duplicates = 0
            self.entries.append(entry)
            out.append((trial, entry))
        return out

    def resume(self, entry: Entry) -> optuna.trial.Trial:
        """A live Optuna trial for a stored but unfinished entry (its values fixed), for pruning."""
        study = self.optuna_study()
        study.enqueue_trial(dict(entry.values), skip_if_exists=False)
        return study.ask(distributions(self.space))

    def tell(self, trial: optuna.trial.Trial, entry: Entry) -> None:
        """Tell Optuna how a proposed configuration ended (read from its entry)."""
        state, value, violation = self.outcome(entry)
        for name, value in (self._constraints(violation) or {}).items():
            trial.set_constraint(name, value)
        for epoch, v in sorted(entry.intermediate.items()):  # pruning decided from the store (prune.py)
            trial.report(v, epoch)
        self.optuna_study().tell(trial, value if state == optuna.trial.TrialState.COMPLETE else None,
                                 state=state)

    # --- what is registered and trained --------------------------------------------------------
    def ranked(self) -> list[Entry]:
        """Entries with a value, best first (ties: the earlier trial)."""
        scored = [e for e in self.entries if e.value is not None]
        sign = -1 if self.search.maximize else 1
        return sorted(scored, key=lambda e: (sign * e.value, e.number))

    def top(self) -> list[Entry]:
        """The configurations the confirmation stage re-runs: the best `confirm.top` by validation."""
        return self.ranked()[: self.search.confirm.top]

    def confirm_seeds(self) -> list[int]:
        """The confirmation stage's seeds (none when `confirm.top` is 0)."""
        if self.search.confirm.top == 0:
            return []
        return [self.seed + i for i in range(1, self.search.confirm.seeds + 1)]

    def confirm_config(self, config: TrialConfig, seed: int) -> TrialConfig:
        """A confirmation trial's config: the searched one with its own validation split
        (`data.split_seed` moved by seed - search seed, so never the split the search selected on;
        baseline and configurations share it at a given seed, so pairs stay matched)."""
        data = config.data.model_copy(update={"split_seed": config.data.split_seed + seed - self.seed})
        return config.model_copy(update={"data": data})

    def plan(self, confirm: bool = False) -> Plan:
        """What to register: the baseline, every searched configuration (one trial each, at the
        search seed) and, with `confirm`, the confirmation trials (the top configurations and the
        baseline at the confirmation seeds, each seed on its own validation split: confirm_config)."""
        base = self.base_plan.variants[0]
        seeds = self.confirm_seeds() if confirm else []
        top = {e.key for e in self.top()} if confirm else set()
        variants: list[Variant] = []
        trials: list[PlannedTrial] = []
        fingerprint = self.base_plan.trials[0].data_fingerprint
        base_configs = [self.confirm_config(base.config, s) for s in seeds]
        keys = tuple(trial_key(c, s, fingerprint) for c, s in zip(base_configs, seeds, strict=True))
        variants.append(Variant(base.name, None, None, {}, {}, base.config, True, 0, base.cost,
                                base.budget_ok, base.budget_reason, keys))
        trials += [PlannedTrial(k, base.name, None, None, s, c, base.budget_ok, base.budget_reason,
                                True, fingerprint) for k, s, c in zip(keys, seeds, base_configs, strict=True)]
        factor_names = ", ".join(f.name for f in self.space.factors)
        for entry in self.entries:
            data = entry.data_fingerprint
            confirmed = [(self.confirm_config(entry.config, s), s) for s in seeds] if entry.key in top else []
            extra = [(trial_key(c, s, data), s, c) for c, s in confirmed]
            labels = {n: _label(v) for n, v in entry.values.items()}
            variants.append(Variant(
                entry.variant, factor_names, ", ".join(labels.values()), labels,
                self.space.changes_of(entry.values), entry.config, False, entry.number + 1, entry.cost,
                entry.budget_ok, entry.budget_reason, (entry.key, *(k for k, _, _ in extra))))
            # Registered even when over budget: the trial is stored as `infeasible`, with the reason.
            trials.append(PlannedTrial(entry.key, entry.variant, factor_names, variants[-1].level, self.seed,
                                       entry.config, True, entry.budget_reason, False, data))
            trials += [PlannedTrial(k, entry.variant, factor_names, variants[-1].level, s, c,
                                    entry.budget_ok, entry.budget_reason, False, data) for k, s, c in extra]
        return Plan(self.study, variants, trials, [self.seed, *seeds])


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _label(value: Any) -> str:
    """A sampled value as shown in names and tables: choices by label, numbers to 6 digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def describe_search(study: StudySpec) -> str:
    """One line for `hyperlab plan`: what a search study will train, since its configurations are
    only known at run time."""
    search = study.search
    assert search is not None
    factors = ", ".join(f.name for f in study.factor)
    line = (f"search: {search.trials} configurations of {factors}, proposed at run time by {search.sampler} "
            f"(seed {search.seed}), one seed each (seed {study.seed_list[0]}); pruner {search.pruner}; "
            f"objective {search.objective} ({'maximize' if search.maximize else 'minimize'})")
    top = search.confirm.top
    if top:
        line += (f"; then the {top} best and the baseline x {search.confirm.seeds} seeds "
                 f"(confirmation; the baseline is trained only then)")
    return line
