"""From a plan to what the store and the executors are given: rows and trial tasks."""

from __future__ import annotations

from typing import Any

from hyperlab.plan.task import TrialTask, tasks_of
from hyperlab.store import StudyRow, TrialRow, VariantRow


def study_row(study: Any, plan: Any) -> StudyRow:
    seeds: list[int] = []
    for trial in plan.trials:
        if trial.seed not in seeds:
            seeds.append(int(trial.seed))
    return StudyRow(name=study.name, design=str(study.design), spec=study.model_dump(mode="json"),
                    description=study.description or "", seeds=seeds)


def variant_rows(plan: Any) -> list[VariantRow]:
    """One row per variant in plan order; costs come from the plan's variants where it has them."""
    trials_by_variant: dict[str, list[Any]] = {}
    for trial in plan.trials:
        trials_by_variant.setdefault(trial.variant, []).append(trial)
    described = {_name(v): v for v in getattr(plan, "variants", None) or []}
    names = list(described) + [n for n in trials_by_variant if n not in described]
    rows = []
    for order, name in enumerate(names):
        v, first = described.get(name), (trials_by_variant.get(name) or [None])[0]

        def field(attr: str, default: Any = None, v: Any = v, first: Any = first) -> Any:
            for source in (v, first):
                value = getattr(source, attr, None) if source is not None else None
                if value is not None:
                    return value
            return default

        rows.append(VariantRow(
            variant=name, factor=field("factor"), level=_text(field("level")), order=order,
            params=_int(field("params")), macs=_int(field("macs")), flops=_int(field("flops")),
            train_flops=_int(field("train_flops")), budget_ok=bool(field("budget_ok", True)),
            budget_reason=field("budget_reason"), is_baseline=field("is_baseline"),
        ))
    return rows


def trial_rows(plan: Any) -> list[TrialRow]:
    """The (variant, seed) rows of the trials within budget (over-budget variants are not trained)."""
    return [TrialRow(t.variant, int(t.seed), t.key, t.config.model_dump_json())
            for t in plan.trials if t.budget_ok]


def tasks(plan: Any) -> list[TrialTask]:
    """Unique trials within budget, seed-major (hyperlab.plan.task.tasks_of)."""
    return tasks_of(plan)


def _name(variant: Any) -> str:
    for attr in ("name", "variant"):
        value = getattr(variant, attr, None)
        if isinstance(value, str):
            return value
    raise TypeError(f"a plan variant has neither `name` nor `variant`: {variant!r}")


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
