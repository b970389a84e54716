"""Plans: a study expanded into variants x seeds, each trial keyed by a hash of its resolved config.

    plan = make_plan(load_study("studies/quickstart.toml"))
    plan.variants[0].name, plan.variants[0].params, plan.trials[0].key
    plan.trials_to_train()        # one trial per distinct key, within budget
"""

from __future__ import annotations

from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "Cost": "hyperlab.plan.cost",
    "variant_cost": "hyperlab.plan.cost",
    "KEY_LENGTH": "hyperlab.plan.keys",
    "NOT_IN_KEY": "hyperlab.plan.keys",
    "canonical_config": "hyperlab.plan.keys",
    "trial_key": "hyperlab.plan.keys",
    "Plan": "hyperlab.plan.make",
    "PlannedTrial": "hyperlab.plan.make",
    "Variant": "hyperlab.plan.make",
    "budget_verdict": "hyperlab.plan.make",
    "make_plan": "hyperlab.plan.make",
    "TrialTask": "hyperlab.plan.task",
    "tasks_of": "hyperlab.plan.task",
}

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


# Exports load on first use (PEP 562): commands that only read the store import this package's
# pure modules (configs, versions) without pulling in torch through the others.
__getattr__ = lazy_exports(__name__, _EXPORTS)
