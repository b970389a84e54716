"""`TrialTask`: one unique trial to train, as a plan (or a proposer) hands it to the runner's executors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrialTask:
    """One trial to train: its key, where it sits in the study, and its resolved config."""

    key: str
    variant: str  # the first variant of the study that uses this trial
    seed: int
    config: Any  # hyperlab.engine.TrialConfig
    data_fingerprint: str | None = None  # what the data files contain (part of the trial's identity)

    @property
    def epochs(self) -> int:
        return int(self.config.train.epochs)


def tasks_of(plan: Any) -> list[TrialTask]:
    """A plan's unique trials within budget, seed-major (every variant's first seed before any
    second seed: a partial run already compares all variants), plan order within a seed."""
    seed_rank: dict[int, int] = {}
    for trial in plan.trials:
        seed_rank.setdefault(trial.seed, len(seed_rank))
    ordered = sorted(enumerate(plan.trials), key=lambda it: (seed_rank[it[1].seed], it[0]))
    seen: set[str] = set()
    out = []
    for _, trial in ordered:
        if trial.budget_ok and trial.key not in seen:
            seen.add(trial.key)
            out.append(TrialTask(trial.key, trial.variant, int(trial.seed), trial.config,
                                 getattr(trial, "data_fingerprint", None)))
    return out
