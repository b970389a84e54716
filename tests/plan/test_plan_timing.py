"""[budget] max_seconds: a trial's training time estimated before training (hyperlab.plan.timing)."""

from __future__ import annotations

import re

from plan_text import BASE, edit

from hyperlab.engine import TrialConfig
from hyperlab.plan import make_plan
from hyperlab.plan.timing import estimate_seconds


def with_budget(limit: str) -> str:
    return edit(BASE, ("[train]", f"[budget]\nmax_seconds = {limit}\n\n[train]"))


def test_an_absurdly_small_max_seconds_puts_every_variant_over_budget(study_of) -> None:
    plan = make_plan(study_of(with_budget("1e-6")))
    assert plan.variants and not any(v.budget_ok for v in plan.variants)
    for variant in plan.variants:
        assert re.fullmatch(r"estimated [\d.e+-]+ s > max_seconds 1e-06", variant.budget_reason)
    assert plan.trials_to_train() == []


def test_a_huge_max_seconds_trains_every_variant(study_of) -> None:
    plan = make_plan(study_of(with_budget("1e9")))
    assert all(v.budget_ok for v in plan.variants) and len(plan.trials_to_train()) == len(plan.trials)


def test_the_estimate_scales_with_epochs_and_steps(study_of) -> None:
    config = make_plan(study_of()).variants[0].config
    short = estimate_seconds(config)
    longer = estimate_seconds(TrialConfig.model_validate(
        config.model_dump() | {"train": config.train.model_dump() | {"epochs": config.train.epochs * 10}}))
    assert short.seconds > 0 and longer.step_seconds == short.step_seconds  # cached per model and batch
    assert longer.epochs == 10 * short.epochs and longer.seconds > 5 * short.seconds
    assert "epochs x" in short.describe()
