"""The loop's optimizer step (`OptimizerChoice.stepper`) must leave exactly what torch's own `step`
leaves: the same weights bit for bit, and the same state_dict (checkpoints keep their format)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from hyperlab.engine.optimizers import SGD, Adam


def _train(choice, lean: bool, steps: int = 5) -> tuple[nn.Module, dict]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 7), nn.Tanh(), nn.Linear(7, 3))
    optimizer = choice.build(model.parameters())
    step = choice.stepper(optimizer) if lean else optimizer.step
    data = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x, y = torch.randn(9, 12, generator=data), torch.randint(0, 3, (9,), generator=data)
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        step()
    return model, optimizer.state_dict()


@pytest.mark.parametrize("choice", [
    SGD(lr=0.1), SGD(lr=0.1, momentum=0.45), SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    SGD(lr=0.05, momentum=0.5, dampening=0.3), Adam(lr=0.01)])
def test_stepper_matches_torch_step(choice) -> None:
    reference, reference_state = _train(choice, lean=False)
    model, state = _train(choice, lean=True)
    for a, b in zip(reference.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert state["param_groups"] == reference_state["param_groups"]
    assert state["state"].keys() == reference_state["state"].keys()
    for key, entry in reference_state["state"].items():
        assert entry.keys() == state["state"][key].keys()
        for name, value in entry.items():
            assert torch.equal(value, state["state"][key][name])
    if choice.name == "sgd" and choice.momentum == 0:
        assert state["state"] == {}  # torch keeps no state without momentum, nor must the lean step


def test_sgd_stepper_takes_torch_step_when_a_hook_is_registered() -> None:
    calls = []
    handle = register_optimizer_step_post_hook(lambda *_: calls.append(1))
    try:
        _train(SGD(lr=0.1, momentum=0.9), lean=True, steps=2)
    finally:
        handle.remove()
    assert calls == [1, 1]
