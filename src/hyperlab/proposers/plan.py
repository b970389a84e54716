"""`PlanProposer`: ablation and grid studies, whose trials are all known before the run: the whole
plan is proposed once (as Optuna's GridSampler and Ray Tune's BasicVariantGenerator treat a grid);
what is stored already is skipped by the runner's claim, so nothing is trained twice."""

from __future__ import annotations

from typing import Any

from hyperlab.plan import Plan, TrialTask, make_plan, tasks_of
from hyperlab.proposers.base import describe as _describe
from hyperlab.spec import StudySpec
from hyperlab.store import Store


class PlanProposer:
    """Every trial of `make_plan(study)`, in one batch."""

    describe = staticmethod(_describe)

    def __init__(self, study: StudySpec, store: Store | None = None, plan: Plan | None = None) -> None:
        self._plan = plan if plan is not None else make_plan(study)
        self._proposed = False
        self.notes: list[str] = []

    def plan(self) -> Plan:
        return self._plan

    def propose(self, n: int) -> list[TrialTask]:  # noqa: ARG002 - a plan is proposed whole
        if self._proposed:
            return []
        self._proposed = True
        return tasks_of(self._plan)

    def tell(self, task: TrialTask, status: str) -> None:
        """A fixed plan learns nothing from an outcome."""

    def infeasible(self, task: TrialTask) -> dict[str, Any] | None:
        return None  # over-budget variants are not in the plan's trials to train

    def prune_rule(self, task: TrialTask) -> Any:
        return None
