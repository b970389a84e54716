"""Optuna's pruners by the names a study file uses; one line per pruner. A pruner sees the
objective after every evaluated epoch (`epochs`: the most a trial trains)."""

from __future__ import annotations

from collections.abc import Callable

import optuna


def first_prunable_epoch(epochs: int) -> int:
    """The first epoch after which a trial may be pruned: a quarter of its epochs, and never the first.
    After one epoch a good configuration (a smaller learning rate, more dropout) often still trails a
    fast starter: issue 29 saw the median pruner stop lr 0.042 (beside the baseline's 0.05) and a trial
    that reached 93% by epoch 4, both after epoch 1."""
    return max(2, epochs // 4)


PRUNERS: dict[str, Callable[[int], optuna.pruners.BasePruner]] = {
    "none": lambda epochs: optuna.pruners.NopPruner(),
    # Optuna skips pruning while step < n_warmup_steps; the steps are epochs (1-based)
    "median": lambda epochs: optuna.pruners.MedianPruner(n_startup_trials=5,
                                                         n_warmup_steps=first_prunable_epoch(epochs)),
    "asha": lambda epochs: optuna.pruners.SuccessiveHalvingPruner(min_resource=first_prunable_epoch(epochs)),
    "hyperband": lambda epochs: optuna.pruners.HyperbandPruner(min_resource=first_prunable_epoch(epochs),
                                                               max_resource=max(epochs, 2)),
}


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner `name` (one of PRUNERS, checked by the spec) for trials of at most `epochs` epochs."""
    return PRUNERS[name](epochs)
