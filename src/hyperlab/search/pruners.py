"""Optuna's pruners by the names a study file uses; one line per pruner. A pruner sees the
objective after every evaluated epoch (`epochs`: the most a trial trains)."""

from __future__ import annotations

from collections.abc import Callable

import optuna

PRUNERS: dict[str, Callable[[int], optuna.pruners.BasePruner]] = {
    "none": lambda epochs: optuna.pruners.NopPruner(),
    "median": lambda epochs: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    "asha": lambda epochs: optuna.pruners.SuccessiveHalvingPruner(),
    "hyperband": lambda epochs: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1)),
}


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner `name` (one of PRUNERS, checked by the spec) for trials of at most `epochs` epochs."""
    return PRUNERS[name](epochs)
