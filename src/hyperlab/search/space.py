"""A study's search factors as Optuna distributions (numbers as ranges, choices by their labels)."""

from __future__ import annotations

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hyperlab.spec import SearchFactor, SearchSpace


def distribution(factor: SearchFactor) -> BaseDistribution:
    """The Optuna distribution of one factor."""
    if factor.kind == "categorical":
        return CategoricalDistribution(factor.labels)
    assert factor.low is not None and factor.high is not None  # a range factor (checked by the spec)
    if factor.kind == "int":
        return IntDistribution(int(factor.low), int(factor.high), log=factor.log,
                               step=int(factor.step or 1))
    return FloatDistribution(float(factor.low), float(factor.high), log=factor.log,
                             step=None if factor.step is None else float(factor.step))


def distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """Factor name -> distribution, in the study file's order."""
    return {f.name: distribution(f) for f in space.factors}
