"""The shipped pruners never stop a trial after its first epoch (issue 29), and do stop a laggard later."""

from __future__ import annotations

import optuna
import pytest

from hyperlab.search.pruners import first_prunable_epoch, make_pruner


def _laggard_pruned_at(name: str, epochs: int) -> list[int]:
    """The epochs after which `name` stops a trial far below 8 finished trials that rose steadily."""
    study = optuna.create_study(direction="maximize", pruner=make_pruner(name, epochs),
                                sampler=optuna.samplers.RandomSampler(seed=0))
    for i in range(8):
        trial = study.ask()
        for epoch in range(1, epochs + 1):
            trial.report(0.5 + 0.04 * epoch + 0.001 * i, epoch)
            trial.should_prune()  # as hyperlab asks after every epoch (ASHA records its rungs here)
        study.tell(trial, 0.5 + 0.04 * epochs + 0.001 * i)
    laggard = study.ask()
    pruned = []
    for epoch in range(1, epochs + 1):
        laggard.report(0.1, epoch)
        if laggard.should_prune():
            pruned.append(epoch)
    return pruned


@pytest.mark.parametrize("name", ["median", "asha", "hyperband"])
def test_never_pruned_after_the_first_epoch_but_pruned_later(name):
    epochs = 12
    pruned = _laggard_pruned_at(name, epochs)
    assert pruned, name
    assert min(pruned) >= first_prunable_epoch(epochs) == 3 and 1 not in pruned


def test_first_prunable_epoch_is_never_the_first():
    assert [first_prunable_epoch(e) for e in (1, 2, 4, 8, 20)] == [2, 2, 2, 2, 5]
