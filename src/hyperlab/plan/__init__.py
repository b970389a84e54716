"""Plans: a study expanded into variants x seeds, each trial keyed by a hash of its resolved config.

    plan = make_plan(load_study("studies/quickstart.toml"))
    plan.variants[0].name, plan.variants[0].params, plan.trials[0].key
    plan.trials_to_train()        # one trial per distinct key, within budget
"""

from __future__ import annotations

from hyperlab.plan.cost import Cost, variant_cost
from hyperlab.plan.keys import KEY_LENGTH, NOT_IN_KEY, canonical_config, trial_key
from hyperlab.plan.make import Plan, PlannedTrial, Variant, budget_verdict, make_plan
from hyperlab.plan.task import TrialTask, tasks_of

__all__ = [
    "KEY_LENGTH",
    "NOT_IN_KEY",
    "Cost",
    "Plan",
    "PlannedTrial",
    "TrialTask",
    "Variant",
    "budget_verdict",
    "canonical_config",
    "make_plan",
    "tasks_of",
    "trial_key",
    "variant_cost",
]
