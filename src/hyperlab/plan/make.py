"""make_plan(study): the study's variants x seeds as trials, each keyed by a hash of its config.

Order is deterministic: variants as `expand_variants` gives them (baseline first, factors in file
order, levels in order), and within a variant the seeds sorted. Trials of identical configs (a level
equal to the baseline) share their keys: they are listed under each variant and trained once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperlab.data.fingerprint import data_fingerprint
from hyperlab.engine import ENGINE_VERSION, TrialConfig
from hyperlab.errors import UserError
from hyperlab.plan.cost import Cost
from hyperlab.plan.keys import trial_key
from hyperlab.plan.memory import train_memory
from hyperlab.spec import Problem, StudySpec, expand_variants
from hyperlab.spec.study import Budget


@dataclass(frozen=True)
class PlannedTrial:
    """One trial of the plan: a variant's resolved config and one seed."""

    key: str  # hash of the resolved config + seed + ENGINE_VERSION + data fingerprint (hyperlab.plan.keys)
    variant: str  # "baseline", "<factor>=<label>", or a grid point "<f1>=<l1>, <f2>=<l2>"
    factor: str | None  # None for the baseline
    level: str | None  # the level's label; None for the baseline
    seed: int
    config: TrialConfig
    budget_ok: bool  # False: over budget, listed but not trained
    budget_reason: str | None  # why not, e.g. "params 267,530 > max_params 256,000"
    is_baseline: bool = False
    data_fingerprint: str | None = None  # what the data contain (hyperlab.data.fingerprint), in the key


@dataclass(frozen=True)
class Variant:
    """One variant: its place in the study, its config, what it costs and whether it is trained."""

    name: str
    factor: str | None
    level: str | None
    levels: dict[str, str]  # factor name -> level label (grid points name every factor)
    changes: dict[str, Any]  # dotted key -> value, relative to the baseline
    config: TrialConfig
    is_baseline: bool
    order: int
    cost: Cost
    budget_ok: bool
    budget_reason: str | None
    keys: tuple[str, ...]  # trial keys, one per seed (sorted seeds)

    @property
    def memory(self) -> int:
        """Bytes that training one of its trials needs about (hyperlab.plan.memory)."""
        return train_memory(self.config, self.cost)

    @property
    def params(self) -> int:
        return self.cost.params

    @property
    def macs(self) -> int:
        return self.cost.macs

    @property
    def flops(self) -> int:
        return self.cost.flops

    @property
    def train_flops(self) -> int:
        return self.cost.train_flops


@dataclass
class Plan:
    """A study expanded into variants and trials (variants x seeds)."""

    study: StudySpec
    variants: list[Variant]
    trials: list[PlannedTrial]
    seeds: list[int] = field(default_factory=list)
    engine_version: str = ENGINE_VERSION

    def __repr__(self) -> str:  # the default repr prints every config (~30 KB in a notebook)
        return (f"<Plan {self.study.name!r}: {len(self.variants)} variants x {len(self.seeds)} seeds = "
                f"{len(self.trials)} trials, {len(self.keys())} distinct, {len(self.trials_to_train())} "
                f"within budget>")

    def keys(self) -> list[str]:
        """Distinct trial keys, in plan order."""
        return list(dict.fromkeys(t.key for t in self.trials))

    def trials_to_train(self) -> list[PlannedTrial]:
        """One trial per distinct key within budget, in plan order: what a runner has to train."""
        seen: set[str] = set()
        out = []
        for trial in self.trials:
            if trial.budget_ok and trial.key not in seen:
                seen.add(trial.key)
                out.append(trial)
        return out

    def to_dict(self, statuses: dict[str, str] | None = None) -> dict[str, Any]:
        """JSON-serialisable plan; `statuses` (key -> store status) marks what is stored already."""
        statuses = statuses or {}
        return {
            "study": self.study.name,
            "description": self.study.description,
            "design": self.study.design,
            "seeds": self.seeds,
            "engine_version": self.engine_version,
            "variants": [
                {
                    "name": v.name, "factor": v.factor, "level": v.level, "levels": v.levels,
                    "is_baseline": v.is_baseline, "order": v.order,
                    "changes": v.changes, "params": v.params, "trainable_params": v.cost.trainable_params,
                    "macs": v.macs, "flops": v.flops, "train_flops": v.train_flops,
                    "budget_ok": v.budget_ok, "budget_reason": v.budget_reason,
                    "trials": len(v.keys),
                }
                for v in self.variants
            ],
            "trials": [
                {"key": t.key, "variant": t.variant, "seed": t.seed, "budget_ok": t.budget_ok,
                 "status": statuses.get(t.key, "not started")}
                for t in self.trials
            ],
        }


def budget_verdict(cost: Cost, budget: Budget | None,
                   seconds: float | None = None) -> tuple[bool, str | None]:
    """(within budget, the reason when not): every limit exceeded is named. `seconds`: the trial's
    estimated training time (hyperlab.plan.timing), checked against max_seconds when given."""
    if budget is None:
        return True, None
    over = [
        f"{what} {value:,} > {limit_name} {limit:,}"
        for what, value, limit_name, limit in (
            ("params", cost.params, "max_params", budget.max_params),
            ("MACs", cost.macs, "max_macs", budget.max_macs),
            ("FLOPs", cost.flops, "max_flops", budget.max_flops),
        )
        if limit is not None and value > limit
    ]
    if budget.max_seconds is not None and seconds is not None and seconds > budget.max_seconds:
        shown = f"{seconds:,.0f}" if seconds >= 10 else f"{seconds:.2g}"
        over.append(f"estimated {shown} s > max_seconds {budget.max_seconds:,g}")
    return not over, "; ".join(over) or None


def make_plan(study: StudySpec, cost_of: Callable[[TrialConfig], Cost] | None = None) -> Plan:
    """Expand `study` into its plan. Raises UserError listing every problem: those of the factor
    levels, and those found when building each variant's model for its data.

    `cost_of(config)`: a variant's cost; default `variant_cost`, which builds the model (torch).
    Commands that only read results pass the costs a run already stored (`hyperlab.api`)."""
    if cost_of is None:
        from hyperlab.plan.cost import variant_cost  # torch: measured on the meta device

        cost_of = variant_cost
    specs, problems = expand_variants(study)
    if problems:
        raise UserError("\n".join(p.line(study.source) for p in problems))
    seeds = study.seed_list
    costs: dict[str, Cost] = {}
    failures: dict[str, Problem] = {}  # message -> first variant where it happened
    for spec in specs:
        try:
            costs[spec.name] = cost_of(spec.config)
        except UserError as exc:
            for line in str(exc).splitlines():
                failures.setdefault(line, Problem(spec.origin, line))
    if failures:
        raise UserError("\n".join(p.line(study.source) for p in failures.values()))

    variants: list[Variant] = []
    trials: list[PlannedTrial] = []
    fingerprints: dict[str, str] = {}  # data config JSON -> fingerprint: each dataset hashed once
    timed = study.budget is not None and study.budget.max_seconds is not None
    settings = study.run_defaults() if timed else None
    if timed:
        from hyperlab.plan.timing import estimate_seconds  # times a few batches (torch)
    for spec in specs:
        seconds = estimate_seconds(spec.config, settings).seconds if timed else None
        ok, reason = budget_verdict(costs[spec.name], study.budget, seconds)
        data_json = spec.config.data.model_dump_json()
        if data_json not in fingerprints:
            fingerprints[data_json] = data_fingerprint(spec.config.data)
        data = fingerprints[data_json]
        keys = tuple(trial_key(spec.config, seed, data) for seed in seeds)
        variants.append(Variant(spec.name, spec.factor, spec.level, spec.levels, spec.changes, spec.config,
                                spec.is_baseline, spec.order, costs[spec.name], ok, reason, keys))
        trials += [PlannedTrial(key, spec.name, spec.factor, spec.level, seed, spec.config, ok, reason,
                                spec.is_baseline, data) for key, seed in zip(keys, seeds, strict=True)]
    return Plan(study, variants, trials, seeds)
