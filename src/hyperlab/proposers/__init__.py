"""Proposers: what each study design trains, asked and told by the runner's one loop.

`PROPOSERS` maps a study file's `design` to its proposer class (one line per design); every class
follows `hyperlab.proposers.Proposer` (base.py). A new design is one module with its proposer class
plus one line here (and its name in `hyperlab.spec.StudySpec.design`); the runner, the API and the
CLI find it through this registry (`proposer_for`).
"""

from __future__ import annotations

from hyperlab.plan import Plan
from hyperlab.proposers.base import Proposer
from hyperlab.proposers.isolation import IsolationProposer
from hyperlab.proposers.plan import PlanProposer
from hyperlab.proposers.search import SearchProposer
from hyperlab.spec import StudySpec
from hyperlab.store import Store

PROPOSERS: dict[str, type[Proposer]] = {
    "ablation": PlanProposer,
    "grid": PlanProposer,
    "search": SearchProposer,
    "isolation": IsolationProposer,
}


def proposer_for(study: StudySpec, store: Store | None = None, plan: Plan | None = None) -> Proposer:
    """The proposer of `study`'s design, its state rebuilt from `store`."""
    return PROPOSERS[study.design](study, store, plan)


def describe(study: StudySpec) -> str | None:
    """One line for `hyperlab plan` about what the design decides at run time (None: nothing)."""
    return PROPOSERS[study.design].describe(study)


__all__ = ["PROPOSERS", "IsolationProposer", "PlanProposer", "Proposer", "SearchProposer", "describe",
           "proposer_for"]
