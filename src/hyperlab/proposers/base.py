"""The `Proposer` protocol: what a study design tells the runner's one loop.

    proposer = PROPOSERS[study.design](study, store)    # its state rebuilt from the store
    register(proposer.plan())                           # what the store should hold now
    while batch := proposer.propose(n):                 # up to n trials to train next
        register(proposer.plan())                       # before training: a SIGKILL loses nothing
        train(batch)                                    # any executor
        for task in batch: proposer.tell(task, status)

A plan's proposer (ablation, grid) proposes its whole plan once, as Optuna's GridSampler and Ray
Tune's BasicVariantGenerator treat a grid; a search's proposes a few configurations at a time and
learns from each outcome. The store stays the one record: a proposer built on a store that a killed
run left behind proposes what that run would have proposed next, never a stored trial again.
"""

from __future__ import annotations

from typing import Any, Protocol

from hyperlab.plan import Plan, TrialTask
from hyperlab.spec import StudySpec
from hyperlab.store import Store


class Proposer(Protocol):
    """Proposes a study's trials and learns from their outcomes (ask/tell)."""

    notes: list[str]
    """Lines for the run's output (`search_note` events: what the design will train, why it stopped
    early); the runner emits and clears them after each call."""

    def __init__(self, study: StudySpec, store: Store | None, plan: Plan | None = None) -> None:
        """The design's state as `store` holds it (None: nothing stored yet); `plan` is the study's
        `make_plan` result when the caller has it already (a plan's proposer reuses it)."""

    @staticmethod
    def describe(study: StudySpec) -> str | None:
        """One line for `hyperlab plan` about what is only known at run time (None: the plan says it all)."""

    def plan(self) -> Plan:
        """What the store should hold for this study now (registered before anything trains)."""

    def propose(self, n: int) -> list[TrialTask]:
        """Up to `n` trials to train next ([] when the design is done). A plan's proposer returns its
        whole plan once, whatever `n`."""

    def tell(self, task: TrialTask, status: str) -> None:
        """`task` ended with `status` (as stored; its metrics are in the store)."""

    def infeasible(self, task: TrialTask) -> dict[str, Any] | None:
        """The outcome to store instead of training a proposed trial (an over-budget configuration:
        status `infeasible`, with `params` and `stop_reason`), or None to train it."""

    def prune_rule(self, task: TrialTask) -> Any:
        """The rule that may stop `task` after an epoch (hyperlab.search.PruneRule), or None."""


def describe(study: StudySpec) -> str | None:  # noqa: ARG001 - the default of every proposer class
    """One line for `hyperlab plan` about what is only known at run time (None: the plan says it all)."""
    return None
