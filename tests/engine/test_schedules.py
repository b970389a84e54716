"""Learning-rate schedules: the documented formulas, checked against torch's own schedulers."""

from __future__ import annotations

import math

import pytest
import torch
from engine_helpers import mlp, train_config

from hyperlab.engine import SCHEDULES, fit

STEPS_PER_EPOCH, EPOCHS = 7, 6
TOTAL = STEPS_PER_EPOCH * EPOCHS
BASE_LR = 0.5


def torch_rates(make_scheduler, per_batch: bool) -> list[float]:
    """The lr torch's scheduler gives each of TOTAL batches, stepped per batch or per epoch."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)
    scheduler = make_scheduler(optimizer)
    rates = []
    for step in range(TOTAL):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if per_batch or (step + 1) % STEPS_PER_EPOCH == 0:
            scheduler.step()
    return rates


CASES = {
    "constant": ({}, lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda _: 1.0), False),
    "step": ({"step_size": 2, "gamma": 0.5}, lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5), False),
    "multistep": ({"milestones": [1, 4], "gamma": 0.1},
                  lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [1, 4], 0.1), False),
    "exponential": ({"gamma": 0.8}, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8), False),
    "cosine": ({"min_lr": 0.01}, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, TOTAL, 0.01), True),
    "onecycle": ({}, lambda o: torch.optim.lr_scheduler.OneCycleLR(o, BASE_LR, total_steps=TOTAL,
                                                                     cycle_momentum=False), True),
    "linear_warmup": ({"warmup_epochs": 2, "start_factor": 0.25},
                      lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.25, total_iters=2 * STEPS_PER_EPOCH),
                      True),
}


def test_every_registered_schedule_is_checked():
    assert set(CASES) == set(SCHEDULES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_matches_torch_and_steps_per_batch_or_per_epoch_as_documented(name):
    arguments, make_scheduler, per_batch = CASES[name]
    schedule = SCHEDULES[name](name=name, **arguments)
    assert schedule.per_batch is per_batch
    ours = [schedule.lr_at(BASE_LR, step, STEPS_PER_EPOCH, TOTAL) for step in range(TOTAL)]
    expected = torch_rates(make_scheduler, per_batch)
    assert ours == pytest.approx(expected, rel=1e-9, abs=1e-12)
    if not per_batch:  # constant within each epoch
        for epoch in range(EPOCHS):
            assert len(set(ours[epoch * STEPS_PER_EPOCH:(epoch + 1) * STEPS_PER_EPOCH])) == 1


def test_fit_applies_the_schedule_and_records_the_last_batch_rate(digits):
    cfg = train_config(epochs=4, schedule={"name": "step", "step_size": 2, "gamma": 0.1})
    result = fit(mlp(), digits, cfg, seed=0)
    assert [r["lr"] for r in result.epochs] == pytest.approx([0.1, 0.1, 0.01, 0.01])

    cfg = train_config(epochs=2, schedule={"name": "cosine"})
    result = fit(mlp(), digits, cfg, seed=0)
    steps = math.ceil(1200 / 64)
    last_step_of_epoch_1 = steps - 1
    expected = 0.1 * (1 + math.cos(math.pi * last_step_of_epoch_1 / (2 * steps))) / 2
    assert result.epochs[0]["lr"] == pytest.approx(expected)
