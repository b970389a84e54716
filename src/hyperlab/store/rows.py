"""What the store is given: plain rows, so the store depends on no planner type."""

from __future__ import annotations

from dataclasses import dataclass, field

TRIAL_STATUSES = ("pending", "running", "completed", "early_stopped", "diverged", "failed", "interrupted",
                  "pruned", "infeasible")
"""Every value of `trials.status`."""

FINISHED_STATUSES = frozenset({"completed", "early_stopped", "diverged", "failed", "pruned", "infeasible"})
"""Statuses that are results: such a trial is reused, not trained again (unless forced). `pruned`
(stopped by a search's pruner) and `infeasible` (over a search's budget, never trained) are search
outcomes."""

CLAIMABLE_STATUSES = frozenset({"pending", "interrupted"})
"""Statuses a runner may claim directly (a `running` trial only when its owner is dead)."""


@dataclass
class StudyRow:
    """One study as registered by a run: its resolved spec and the seeds of its trials."""

    name: str
    design: str  # "ablation" | "grid"
    spec: dict  # the resolved study, JSON-serialisable
    description: str = ""
    seeds: list[int] = field(default_factory=list)  # in plan order


@dataclass
class VariantRow:
    """One variant of a study (baseline, a factor level, or a grid cell) with its cost and verdict."""

    variant: str
    factor: str | None
    level: str | None
    order: int  # the plan's order: baseline first, then factors and levels in file order
    params: int | None = None
    macs: int | None = None
    flops: int | None = None
    train_flops: int | None = None
    budget_ok: bool = True
    budget_reason: str | None = None
    is_baseline: bool | None = None  # None: the variant named "baseline" is

    def __post_init__(self) -> None:
        if self.is_baseline is None:
            self.is_baseline = self.variant == "baseline"


@dataclass
class TrialRow:
    """One (variant, seed) of a study and the content-hashed trial that realises it."""

    variant: str
    seed: int
    key: str  # hash of the resolved config + seed + engine version: shared across studies
    config: str  # the resolved TrialConfig as JSON text
